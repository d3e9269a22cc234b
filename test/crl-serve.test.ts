/**
 * CRLs from a running `keyfleet serve` as a relying party meets them: openssl downloads the CRL
 * named in a certificate's CRL distribution point (`verify -crl_download`) and accepts the
 * certificate; after `keyfleet cert revoke`, the server's publisher puts it in the delta CRL within
 * its period (no command asked), openssl with the delta refuses it, and `keyfleet crl publish`
 * puts it in the full CRL at once.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { keyfleetServe, runCli, stop } from "./support/cli.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const passphrase = { KEYFLEET_PASSPHRASE: "crl serve test passphrase" };
let data: string;
let dir: Workdir;
let server: Awaited<ReturnType<typeof keyfleetServe>>;
const kf = (args: string[]) => runCli(["--data", data, ...args], passphrase);

/** A loopback port free a moment ago: certificates carry the public URL, so it is fixed before the server starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  data = join(await mkdtemp(join(tmpdir(), "keyfleet-crl-serve-")), "data");
  dir = await workdir();
  const port = String(await freePort());
  server = await keyfleetServe(
    ["--data", data, "--https-port", "0", "--http-port", port, "--public-url", `http://127.0.0.1:${port}`],
    passphrase,
  );
});
afterAll(async () => {
  if (server) await stop(server.child);
  await dir?.dispose();
  await rm(join(data, ".."), { recursive: true, force: true });
});

/** Polls until `check` holds (the publisher runs on its own period), for at most a minute. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const verify = async (args: string[]): Promise<string> => {
  try {
    return (await openssl(["verify", "-crl_check", "-CAfile", dir.file("chain.pem"), ...args])).stdout.trim();
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return `refused: ${String(stdout)} ${String(stderr)}`;
  }
};

test("openssl fetches the CRL a certificate names; a revocation reaches the delta by itself and the full CRL on demand", async () => {
  await dir.write("chain.pem", await readFile(join(data, "ca-chain.pem"), "utf8"));
  await dir.write("leaf.csr", await opensslCsr(dir, "p256", "/CN=crl-serve"));
  const issued = JSON.parse(
    (await kf(["--json", "cert", "issue", "--csr", dir.file("leaf.csr"), "--profile", "client"])).stdout,
  ) as { serial: string; pem: string };
  await dir.write("leaf.pem", issued.pem);
  const cdp = /URI:(http:\/\/\S+\.crl)/.exec(
    (await openssl(["x509", "-in", dir.file("leaf.pem"), "-noout", "-ext", "crlDistributionPoints"])).stdout,
  )![1]!;
  const fetchCrl = async (url: string) => {
    const res = await fetch(url);
    return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
  };
  // The publisher task runs as the server starts: the CRLs are there before anyone asks.
  expect(await eventually(() => fetchCrl(cdp), Boolean)).toBeDefined();
  expect(await verify(["-crl_download", dir.file("leaf.pem")])).toMatch(/leaf\.pem: OK$/);

  const revoked = await kf(["cert", "revoke", issued.serial, "--reason", "keyCompromise"]);
  expect(revoked.stderr).toBe("");
  const deltaUrl = cdp.replace(/\.crl$/, "-delta.crl");
  const shows = async () => {
    const der = await fetchCrl(deltaUrl);
    if (!der) return "";
    await dir.write("delta.crl", der);
    return (await openssl(["crl", "-inform", "DER", "-in", dir.file("delta.crl"), "-noout", "-text"])).stdout;
  };
  expect(
    await eventually(shows, (text) => text.includes(`Serial Number: ${issued.serial.toUpperCase()}`)),
  ).toContain("Key Compromise");
  await dir.write("full.crl", (await fetchCrl(cdp))!);
  const pem = async (name: string) =>
    openssl(["crl", "-inform", "DER", "-in", dir.file(name), "-out", dir.file(`${name}.pem`)]);
  await pem("full.crl");
  await pem("delta.crl");
  expect(
    await verify([
      "-use_deltas",
      "-extended_crl",
      "-CRLfile",
      dir.file("full.crl.pem"),
      "-CRLfile",
      dir.file("delta.crl.pem"),
      dir.file("leaf.pem"),
    ]),
  ).toMatch(/certificate revoked/);

  expect((await kf(["crl", "publish"])).stderr).toBe("");
  expect(await verify(["-crl_download", dir.file("leaf.pem")])).toMatch(/certificate revoked/);
});
