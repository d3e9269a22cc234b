/**
 * Revocation enforced at a real broker (issue 17, item 7): Mosquitto with `require_certificate`,
 * our chain as `cafile` and the bundle of `keyfleet crl publish --all-issuers` as `crlfile`, on
 * the embedded default beside `keyfleet serve`. `keyfleet events exec` follows `crl.published` and
 * SIGHUPs the broker after each publication. A device that used its own key and certificate is
 * accepted by `mosquitto_pub`; suspended, refused; resumed, accepted; decommissioned, refused —
 * while a bystander device stays accepted throughout (so a refusal is the CRL's entry, not a
 * broken or stale CRL, which would refuse everyone). A reader polling the crlfile path meanwhile
 * never finds a partial bundle (Mosquitto fails open on one).
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fromPem } from "../src/pki/index.js";
import { keyfleetChild, keyfleetServe, runCli, stop, type CliResult } from "./support/cli.js";
import {
  eventually,
  mqttPublish,
  run,
  startMosquitto,
  type Broker,
  type DeviceTls,
} from "./support/mosquitto.js";
import { openssl, opensslCsrWithKey, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "mosquitto crl test passphrase" };
let root: string;
let data: string;
let dir: Workdir;
let server: Awaited<ReturnType<typeof keyfleetServe>>;
let https: string;
let chain: string;
let brokerDir: string;
let crlfile: string;
let broker: Broker;
let consumer: ReturnType<typeof keyfleetChild>;
let watching = true;
let watcher: Promise<{ versions: Set<string>; partial: string[] }>;
let caCount: number;

const kf = (args: string[]) => runCli(["--data", data, ...args], passphrase);

function ok(res: CliResult): string {
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return res.stdout;
}

interface Device extends DeviceTls {
  readonly id: string;
  readonly serial: string;
}

/** A device registered, issued a certificate for a key it made itself, and active. */
async function activeDevice(serial: string): Promise<Device> {
  const id = ok(await kf(["device", "register", "--serial", serial])).trim();
  const csr = await opensslCsrWithKey(dir, "p256", `/CN=${serial}`);
  const csrFile = await dir.write(`${serial}.csr`, csr.pem);
  const issued = JSON.parse(ok(await kf(["--json", "cert", "issue", "--csr", csrFile, "--device", id]))) as {
    pem: string;
  };
  const cert = await dir.write(`${serial}.pem`, issued.pem);
  // Its first use of the certificate (an EST request authenticated with it) confirms it: → active.
  const used = await run("curl", [
    "-sSf",
    "-o",
    "/dev/null",
    "--cacert",
    chain,
    "--cert",
    cert,
    "--key",
    csr.keyFile,
    `${https}/.well-known/est/csrattrs`,
  ]);
  expect(used.stderr).toBe("");
  expect(JSON.parse(ok(await kf(["--json", "device", "show", id]))).state).toBe("active");
  return { id, serial, cert, key: csr.keyFile };
}

const publishBundle = async () => ok(await kf(["crl", "publish", "--all-issuers", "--out", crlfile]));
const connects = async (device: Device) =>
  (await mqttPublish(broker, chain, device, `devices/${device.serial}/up`, "hello")).code === 0;

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
  root = await mkdtemp(join(tmpdir(), "keyfleet-mosquitto-"));
  data = join(root, "data");
  dir = await workdir();
  server = await keyfleetServe(
    ["--data", data, "--https-port", "0", "--http-port", "0", "--public-url", "http://pki.mosquitto.test"],
    passphrase,
  );
  https = /admin API\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(server.banner)![1]!;
  chain = await dir.write("chain.pem", JSON.parse(ok(await kf(["--json", "ca", "chain"]))).pem);
  caCount = (JSON.parse(ok(await kf(["--json", "ca", "list"]))) as unknown[]).length;

  // The broker's own certificate, from the same authority (profile tls-server, its IP as SAN).
  const tls = await opensslCsrWithKey(dir, "p256", "/CN=127.0.0.1", [
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const tlsCsr = await dir.write("broker.csr", tls.pem);
  const brokerCert = await dir.write(
    "broker.pem",
    ok(await kf(["cert", "issue", "--csr", tlsCsr, "--profile", "tls-server"])),
  );

  brokerDir = join(root, "broker");
  await mkdir(brokerDir);
  crlfile = join(brokerDir, "crl.pem");
  await publishBundle();
  broker = await startMosquitto(brokerDir, {
    cafile: chain,
    crlfile,
    certfile: brokerCert,
    keyfile: tls.keyFile,
  });
  watcher = watch();
  consumer = keyfleetChild(
    [
      "--data",
      data,
      "events",
      "exec",
      "--type",
      "crl.published",
      "--cursor",
      join(root, "reload.cursor"),
      "--interval",
      "0.2",
      "--",
      "kill",
      "-HUP",
      String(broker.pid),
    ],
    passphrase,
  );
}, 240_000);

afterAll(async () => {
  watching = false;
  await watcher?.catch(() => undefined);
  if (consumer) await stop(consumer.child);
  await broker?.stop();
  if (server) await stop(server.child);
  await dir?.dispose();
  await rm(root, { recursive: true, force: true });
});

test("the broker accepts an active device, refuses it suspended, accepts it resumed, refuses it decommissioned", async () => {
  const device = await activeDevice("MQTT-DEV-1");
  const bystander = await activeDevice("MQTT-DEV-2");
  expect(await connects(device)).toBe(true);
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "suspend", device.id, "--reason", "lost in transit"]));
  await publishBundle();
  await eventually("the suspended device to be refused", async () => !(await connects(device)));
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "resume", device.id]));
  await publishBundle();
  await eventually("the resumed device to be accepted", () => connects(device));
  expect(await connects(bystander)).toBe(true);

  ok(await kf(["device", "retire", device.id]));
  ok(await kf(["device", "finalize", device.id]));
  await publishBundle();
  await eventually("the decommissioned device to be refused", async () => !(await connects(device)));
  expect(await connects(bystander)).toBe(true);

  // openssl, reading the same crlfile, says why: the device's certificate is on its issuer's CRL.
  const verify = (cert: string) =>
    openssl(["verify", "-crl_check", "-CRLfile", crlfile, "-CAfile", chain, cert]).then(
      (r) => r.stdout,
      (e: { stderr: string; stdout: string }) => e.stdout + e.stderr,
    );
  expect(await verify(device.cert)).toContain("certificate revoked");
  expect(await verify(bystander.cert)).toContain(": OK");

  // The broker reloaded on the consumer's SIGHUPs only; the consumer reported nothing wrong.
  expect((await broker.log()).split("Reloading config.").length - 1).toBeGreaterThanOrEqual(3);
  expect(consumer.output()).toBe("");
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
