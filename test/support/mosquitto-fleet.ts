/**
 * The authority side of a broker test: `keyfleet serve` on the embedded default in a temporary
 * directory (CLI commands go through it), our chain, a tls-server certificate for the broker, and
 * devices made as a real one is: registered, issued a certificate for a key it made itself, and
 * active once it used that certificate (an EST request authenticated with it, by curl).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { keyfleetServe, runCli, stop, type CliResult } from "./cli.js";
import type { DeviceTls } from "./mosquitto.js";
import { run } from "./mosquitto.js";
import { opensslCsrWithKey, workdir, type Workdir } from "./openssl.js";

export const passphrase = { KEYFLEET_PASSPHRASE: "mosquitto test passphrase" };

export interface Device extends DeviceTls {
  readonly id: string;
  readonly serial: string;
}

export function ok(res: CliResult): string {
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return res.stdout;
}

export async function brokerFleet() {
  const root = await mkdtemp(join(tmpdir(), "keyfleet-mosquitto-"));
  const data = join(root, "data");
  const dir: Workdir = await workdir();
  const server = await keyfleetServe(
    ["--data", data, "--https-port", "0", "--http-port", "0", "--public-url", "http://pki.mosquitto.test"],
    passphrase,
  );
  const kf = (args: string[]) => runCli(["--data", data, ...args], passphrase);
  const https = /admin API\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(server.banner)![1]!;
  const chain = await dir.write("chain.pem", JSON.parse(ok(await kf(["--json", "ca", "chain"]))).pem);
  const tls = await opensslCsrWithKey(dir, "p256", "/CN=127.0.0.1", [
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const tlsCsr = await dir.write("broker.csr", tls.pem);
  const brokerCert = await dir.write(
    "broker.pem",
    ok(await kf(["cert", "issue", "--csr", tlsCsr, "--profile", "tls-server"])),
  );

  async function activeDevice(serial: string): Promise<Device> {
    const id = ok(await kf(["device", "register", "--serial", serial])).trim();
    const csr = await opensslCsrWithKey(dir, "p256", `/CN=${serial}`);
    const csrFile = await dir.write(`${serial}.csr`, csr.pem);
    const issued = JSON.parse(
      ok(await kf(["--json", "cert", "issue", "--csr", csrFile, "--device", id])),
    ) as { pem: string };
    const cert = await dir.write(`${serial}.pem`, issued.pem);
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

  return {
    root,
    data,
    kf,
    chain,
    brokerTls: { certfile: brokerCert, keyfile: tls.keyFile },
    activeDevice,
    /** `keyfleet crl publish --all-issuers --out FILE`. */
    publishBundle: async (file: string) => ok(await kf(["crl", "publish", "--all-issuers", "--out", file])),
    async dispose() {
      await stop(server.child);
      await dir.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export type BrokerFleet = Awaited<ReturnType<typeof brokerFleet>>;
