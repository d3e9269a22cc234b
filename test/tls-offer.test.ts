/**
 * The HTTPS listener's TLS offer (issue 13, defect 8), with the real `openssl s_client`: every
 * suite it knows, each accepted exactly when src/http/tls-policy.ts names it; TLS 1.2 at least;
 * the key exchange groups; no client renegotiation; and the same offer after the certificate is
 * renewed in the running server (setSecureContext replaces the whole context).
 */
import { execFile } from "node:child_process";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fixedClock } from "../src/domain/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers, type RunningServers } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";

const DAY = 86_400;

/** The deliberate offer (src/http/tls-policy.ts), written out again: the test is the second reader. */
const wantedTls12 = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-SHA256",
  "ECDHE-ECDSA-AES256-SHA384",
];
const wantedTls13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
const allTls13 = [...wantedTls13, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

interface Handshake {
  readonly ok: boolean;
  readonly protocol?: string;
  readonly cipher?: string;
  readonly group?: string;
  readonly output: string;
}

/** `openssl s_client -brief` against the port; ok when a handshake completed. */
function sClient(port: number, args: readonly string[]): Promise<Handshake> {
  return new Promise((resolve) => {
    const child = execFile(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost", "-brief", ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        const output = stdout + stderr;
        const ok = !error && output.includes("CONNECTION ESTABLISHED");
        resolve({
          ok,
          protocol: /Protocol version: (\S+)/.exec(output)?.[1],
          cipher: /Ciphersuite: (\S+)/.exec(output)?.[1],
          group: /(?:Server|Peer) Temp Key: ([^\n]+)/.exec(output)?.[1]?.trim(),
          output,
        });
      },
    );
    child.stdin?.end();
  });
}

/** Runs `work` over `items`, a few at a time (two cores, shared). */
async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>, size = 6): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

/** Every TLS 1.2 (and older) suite this openssl can offer, at security level 0. */
async function everyTls12Suite(): Promise<string[]> {
  const list = await new Promise<string>((resolve, reject) =>
    execFile("openssl", ["ciphers", "-s", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], (e, out) =>
      e ? reject(e) : resolve(out),
    ),
  );
  return list
    .trim()
    .split(":")
    .filter((name) => !name.startsWith("TLS_"));
}

describe("TLS offer of a running server [pglite]", () => {
  let t: TestApp;
  let clock: ReturnType<typeof fixedClock>;
  let servers: RunningServers;
  let httpsPort: number;

  beforeAll(async () => {
    clock = fixedClock(new Date().toISOString());
    t = await testApp("pglite", { clock, config: { httpsPort: 0, httpPort: 0 } });
    await ensureInitialized(t.app, { algorithm: "p256" });
    servers = await startServers(t.app);
    httpsPort = Number(new URL(servers.httpsUrl).port);
  });
  afterAll(async () => {
    await servers?.close();
    await t?.dispose();
  });

  test("each wanted suite is accepted, and every other suite openssl knows is refused (TLS 1.2 and 1.3)", async () => {
    const suites = await everyTls12Suite();
    expect(suites.length).toBeGreaterThan(50);
    expect(suites).toEqual(expect.arrayContaining(wantedTls12));
    const results = await inBatches(suites, async (suite) => {
      const h = await sClient(httpsPort, ["-tls1_2", "-cipher", `${suite}:@SECLEVEL=0`]);
      return { suite, ok: h.ok, negotiated: h.cipher };
    });
    const accepted = results.filter((r) => r.ok);
    expect(accepted.map((r) => r.suite).sort()).toEqual([...wantedTls12].sort());
    for (const r of accepted) expect(r.negotiated).toBe(r.suite);
    // Named, so a reader sees what the probe found offered: CBC-SHA1, CCM, CCM_8, ARIA, anonymous.
    const refused = results.filter((r) => !r.ok).map((r) => r.suite);
    expect(refused).toEqual(
      expect.arrayContaining([
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-CCM",
        "ECDHE-ECDSA-AES128-CCM8",
        "ECDHE-ECDSA-AES256-CCM8",
        "ECDHE-ECDSA-ARIA128-GCM-SHA256",
        "ECDHE-ECDSA-ARIA256-GCM-SHA384",
        "AECDH-AES128-SHA",
      ]),
    );
    // TLS 1.3: the three AEAD suites of RFC 8446 §9.1, not CCM.
    const tls13 = await inBatches(allTls13, async (suite) => {
      const h = await sClient(httpsPort, ["-tls1_3", "-ciphersuites", suite]);
      return { suite, ok: h.ok, negotiated: h.cipher };
    });
    expect(tls13.filter((r) => r.ok).map((r) => r.suite)).toEqual(wantedTls13);
    for (const r of tls13.filter((r) => r.ok)) expect(r.negotiated).toBe(r.suite);
  });

  test("TLS 1.0 and 1.1 are refused; the key exchange groups are X25519, P-256 and P-384", async () => {
    for (const version of ["-tls1", "-tls1_1"]) {
      const h = await sClient(httpsPort, [version, "-cipher", "ALL:@SECLEVEL=0"]);
      expect(h.ok, `${version}: ${h.output}`).toBe(false);
    }
    const groups = ["X25519", "P-256", "P-384", "X448", "P-521", "ffdhe2048", "ffdhe3072"];
    const accepted = [];
    for (const group of groups) {
      if ((await sClient(httpsPort, ["-tls1_3", "-groups", group])).ok) accepted.push(group);
    }
    expect(accepted).toEqual(["X25519", "P-256", "P-384"]);
    // TLS 1.2: the server's P-256 certificate needs P-256 among the client's groups (RFC 8422
    // §5.1), so each group is offered ahead of it; the key exchange shows which one was taken.
    const chosen: Record<string, string | undefined> = {};
    for (const group of ["X25519", "X448", "P-521"]) {
      const h = await sClient(httpsPort, ["-tls1_2", "-groups", `${group}:P-256`]);
      expect(h.ok, h.output).toBe(true);
      chosen[group] = h.group;
    }
    expect(chosen).toEqual({
      X25519: "X25519, 253 bits",
      X448: "ECDH, prime256v1, 256 bits",
      "P-521": "ECDH, prime256v1, 256 bits",
    });
  });

  test("a client may not renegotiate", async () => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: httpsPort,
      rejectUnauthorized: false,
      maxVersion: "TLSv1.2",
    });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const outcome = await new Promise<string>((resolve) => {
      socket.on("error", (e) => resolve(`error: ${e.message}`));
      socket.on("close", () => resolve("closed"));
      const accepted = socket.renegotiate({}, (e) => resolve(e ? `refused: ${e.message}` : "renegotiated"));
      if (!accepted) resolve("not sent");
    });
    socket.destroy();
    expect(outcome).not.toBe("renegotiated");
  });

  test("after the server certificate is renewed in place, the offer is the same", async () => {
    clock.advance(60 * DAY + 1);
    expect(await servers.renewTlsIfDue()).toBe(true);
    expect((await sClient(httpsPort, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"])).ok).toBe(
      false,
    );
    expect((await sClient(httpsPort, ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"])).ok).toBe(false);
    expect((await sClient(httpsPort, ["-tls1_2", "-groups", "P-521"])).ok).toBe(false);
    const kept = await sClient(httpsPort, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384"]);
    expect(kept).toMatchObject({ ok: true, cipher: "ECDHE-ECDSA-AES256-SHA384" });
  });
});
