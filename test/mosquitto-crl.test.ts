/**
 * Revocation enforced at a real broker (issue 17, item 7): Mosquitto with `require_certificate`,
 * our chain as `cafile` and the bundle of `keyfleet crl publish --all-issuers` as `crlfile`, on
 * the embedded default beside `keyfleet serve`. `keyfleet events exec` follows `crl.published`:
 * after each publication it rewrites the bundle (`keyfleet crl bundle`) and SIGHUPs the broker. A device that used its own key and certificate is
 * accepted by `mosquitto_pub`; suspended, refused; resumed, accepted; decommissioned, refused —
 * while a bystander device stays accepted throughout (so a refusal is the CRL's entry, not a
 * broken or stale CRL, which would refuse everyone). A reader polling the crlfile path meanwhile
 * never finds a partial bundle (Mosquitto fails open on one).
 */
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fromPem } from "../src/pki/index.js";
import { keyfleetChild, keyfleetCommand, stop } from "./support/cli.js";
import { eventually, mqttPublish, startMosquitto, type Broker } from "./support/mosquitto.js";
import { brokerFleet, ok, passphrase, type BrokerFleet, type Device } from "./support/mosquitto-fleet.js";
import { openssl } from "./support/openssl.js";

let fleet: BrokerFleet;
let brokerDir: string;
let crlfile: string;
let broker: Broker;
let consumer: ReturnType<typeof keyfleetChild>;
let watching = true;
let watcher: Promise<{ versions: Set<string>; partial: string[] }>;
let caCount: number;

const kf = (args: string[]) => fleet.kf(args);
const publishBundle = () => fleet.publishBundle(crlfile);
/** What the server's own crl-publisher does too; the consumer makes the bundle of it and reloads the broker. */
const publish = async () => ok(await kf(["crl", "publish"]));
const connects = async (device: Device) =>
  (await mqttPublish(broker, fleet.chain, device, `devices/${device.serial}/up`, "hello")).code === 0;

/** Every version of the crlfile a reader finds while the test runs, and any that is not a whole bundle. */
async function watch(): Promise<{ versions: Set<string>; partial: string[] }> {
  const versions = new Set<string>();
  const partial: string[] = [];
  while (watching) {
    const text = await readFile(crlfile, "utf8");
    if (!versions.has(text)) {
      versions.add(text);
      try {
        if (fromPem(text, "X509 CRL").length !== caCount) partial.push(text);
      } catch {
        partial.push(text);
      }
    }
    await sleep(5); // often enough to meet each version, not so often as to load the machine
  }
  return { versions, partial };
}

beforeAll(async () => {
  fleet = await brokerFleet();
  caCount = (JSON.parse(ok(await kf(["--json", "ca", "list"]))) as unknown[]).length;
  brokerDir = join(fleet.root, "broker");
  await mkdir(brokerDir);
  crlfile = join(brokerDir, "crl.pem");
  await publishBundle();
  broker = await startMosquitto(brokerDir, { cafile: fleet.chain, crlfile, ...fleet.brokerTls });
  watcher = watch();
  const cursorFile = join(fleet.root, "reload.cursor");
  consumer = keyfleetChild(
    [
      "--data",
      fleet.data,
      "events",
      "exec",
      "--type",
      "crl.published",
      "--cursor",
      cursorFile,
      "--interval",
      "0.2",
      "--",
      // The operator's own fixed script: the bundle and the broker's pid come from its environment.
      "sh",
      "-c",
      '"$@" crl bundle --out "$BUNDLE" && kill -HUP "$BROKER"',
      "reload",
      ...keyfleetCommand,
      "--data",
      fleet.data,
    ],
    { ...passphrase, BUNDLE: crlfile, BROKER: String(broker.pid) },
  );
  // It follows from "now" once it has written its cursor: publications before that are not its.
  await eventually("the consumer to start", () =>
    stat(cursorFile).then(
      () => true,
      () => false,
    ),
  );
}, 240_000);

afterAll(async () => {
  watching = false;
  await watcher?.catch(() => undefined);
  if (consumer) await stop(consumer.child);
  await broker?.stop();
  await fleet?.dispose();
});

test("the broker accepts an active device, refuses it suspended, accepts it resumed, refuses it decommissioned", async () => {
  const device = await fleet.activeDevice("MQTT-DEV-1");
  const bystander = await fleet.activeDevice("MQTT-DEV-2");
  expect(await connects(device)).toBe(true);
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "suspend", device.id, "--reason", "lost in transit"]));
  await publish();
  await eventually("the suspended device to be refused", async () => !(await connects(device)));
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "resume", device.id]));
  await publish();
  await eventually("the resumed device to be accepted", () => connects(device));
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "retire", device.id]));
  ok(await kf(["device", "finalize", device.id]));
  await publish();
  await eventually("the decommissioned device to be refused", async () => !(await connects(device)));
  expect(await connects(bystander)).toBe(true);

  // openssl, reading the same crlfile, says why: the device's certificate is on its issuer's CRL.
  const verify = (cert: string) =>
    openssl(["verify", "-crl_check", "-CRLfile", crlfile, "-CAfile", fleet.chain, cert]).then(
      (r) => r.stdout,
      (e: { stderr: string; stdout: string }) => e.stdout + e.stderr,
    );
  expect(await verify(device.cert)).toContain("certificate revoked");
  expect(await verify(bystander.cert)).toContain(": OK");

  // The broker reloaded on the consumer's SIGHUPs only, and the consumer reported nothing wrong.
  expect((await broker.log()).split("Reloading config.").length - 1).toBeGreaterThanOrEqual(3);
  expect(consumer.output()).not.toMatch(/keyfleet: /);
}, 300_000);

test("no reader of the crlfile ever finds a partial bundle, and no temporary file is left beside it", async () => {
  for (let i = 0; i < 5; i++) await publishBundle();
  watching = false;
  const { versions, partial } = await watcher;
  expect(partial).toEqual([]);
  expect(versions.size).toBeGreaterThanOrEqual(5);
  expect((await readdir(brokerDir)).sort()).toEqual(["crl.pem", "mosquitto.conf", "mosquitto.log"]);
  // A bundle refused before signing (its directory is missing) leaves the one in use as it was.
  const before = await readFile(crlfile, "utf8");
  const refused = await kf(["crl", "publish", "--all-issuers", "--out", join(brokerDir, "gone", "crl.pem")]);
  expect(refused.stderr).toMatch(/there is no directory .*gone \(not-found\)\n$/);
  expect(await readFile(crlfile, "utf8")).toBe(before);
}, 120_000);
