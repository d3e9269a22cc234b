/**
 * Live sessions after a CRL reload (FIELD-NOTES, README "Kicking live sessions"): Mosquitto checks
 * a client certificate at the TLS handshake only, so a device suspended while connected keeps its
 * session through the SIGHUP and still receives messages. Two ways to end it, both shown here with
 * real clients: the dynamic-security plugin's `disableClient` kicks it at once, and a broker
 * restart drops every session; either way the device's `mosquitto_sub` reconnects, is refused at
 * the handshake, and exits.
 */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually, mqttPublish, mqttSubscribe, startMosquitto, type Broker } from "./support/mosquitto.js";
import { brokerFleet, ok, type BrokerFleet, type Device } from "./support/mosquitto-fleet.js";

let fleet: BrokerFleet;
let broker: Broker;
let crlfile: string;
let bystander: Device;

const connects = async (device: Device) =>
  (await mqttPublish(broker, fleet.chain, device, `devices/${device.serial}/up`, "hello")).code === 0;
const send = async (device: Device, message: string) =>
  expect(
    (await mqttPublish(broker, fleet.chain, bystander, `devices/${device.serial}/cmd`, message)).code,
  ).toBe(0);

/** A device that is a dynsec client (named by its certificate's CN: the broker uses it as username). */
async function brokerClient(serial: string): Promise<Device> {
  const device = await fleet.activeDevice(serial);
  const made = await broker.ctrl("createClient", serial, "-p", randomBytes(16).toString("hex"));
  expect(made.code).toBe(0);
  return device;
}

/** Suspends the device, publishes the bundle and SIGHUPs the broker; resolves once it refuses new connections. */
async function suspendAndReload(device: Device): Promise<void> {
  ok(await fleet.kf(["device", "suspend", device.id]));
  await fleet.publishBundle(crlfile);
  process.kill(broker.pid, "SIGHUP");
  await eventually(
    "the suspended device's new connections to be refused",
    async () => !(await connects(device)),
  );
}

beforeAll(async () => {
  fleet = await brokerFleet();
  const brokerDir = join(fleet.root, "broker");
  await mkdir(brokerDir);
  crlfile = join(brokerDir, "crl.pem");
  await fleet.publishBundle(crlfile);
  broker = await startMosquitto(
    brokerDir,
    { cafile: fleet.chain, crlfile, ...fleet.brokerTls },
    { admin: "admin", password: randomBytes(12).toString("hex") },
  );
  bystander = await brokerClient("MQTT-SESSION-0");
}, 240_000);

afterAll(async () => {
  await broker?.stop();
  await fleet?.dispose();
});

test("a session open before the reload survives it; dynsec's disableClient kicks it and it cannot come back", async () => {
  const device = await brokerClient("MQTT-SESSION-1");
  const session = mqttSubscribe(broker, fleet.chain, device, `devices/${device.serial}/cmd`);
  await eventually("the session to receive", async () => {
    await send(device, "before");
    return session.messages().includes("before");
  });

  await suspendAndReload(device);
  await send(device, "after the reload");
  await eventually("the suspended device's open session to receive", async () =>
    session.messages().includes("after the reload"),
  );

  const kicked = await broker.ctrl("disableClient", device.serial);
  expect(kicked.code).toBe(0);
  expect(await session.exited).not.toBe(0); // kicked, then refused at the handshake: mosquitto_sub gives up
  expect(await broker.log()).toMatch(/been disconnected by administrative action/);
  expect(await connects(bystander)).toBe(true);
}, 300_000);

test("a broker restart drops the session of a device suspended while connected", async () => {
  const device = await brokerClient("MQTT-SESSION-2");
  const session = mqttSubscribe(broker, fleet.chain, device, `devices/${device.serial}/cmd`);
  await eventually("the session to receive", async () => {
    await send(device, "before");
    return session.messages().includes("before");
  });
  await suspendAndReload(device);
  await send(device, "after the reload");
  await eventually("the open session to receive", async () =>
    session.messages().includes("after the reload"),
  );

  await broker.restart();
  expect(await session.exited).not.toBe(0);
  expect(await connects(bystander)).toBe(true);
}, 300_000);
