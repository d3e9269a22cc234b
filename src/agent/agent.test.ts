import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { estChain, type EstChain } from "../../test/support/est-chain.js";
import { estServer, type EstTestServer } from "../../test/support/est-server.js";
import { workdir, type Workdir } from "../../test/support/openssl.js";
import { softHsmToken, type SoftHsmToken } from "../../test/support/softhsm.js";
import { main } from "./cli.js";

let dir: Workdir;
let chain: EstChain;
let server: EstTestServer | undefined;
let token: SoftHsmToken | undefined;
let n = 0;

beforeAll(async () => {
  dir = await workdir();
  chain = await estChain(dir);
  await dir.write("trust.pem", chain.chainPem);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await token?.dispose();
  token = undefined;
});
afterAll(async () => {
  await dir.dispose();
});

async function agent(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const stateDir = (): string => join(dir.path, `state-${++n}`);
const pem = (file: string): Promise<X509Certificate> =>
  readFile(file, "utf8").then((t) => new X509Certificate(t));

describe("keyfleet-agent", () => {
  test("enrolls with a bootstrap token and a file key, keeps its state, prints status, renews over TLS with a new key", async () => {
    server = await estServer({ chain, tokens: new Map([["device-001", "bootstrap-1"]]) });
    const state = stateDir();
    const common = ["--state", state];
    const enrolled = await agent(
      "enroll",
      ...common,
      "--server",
      server.url.href,
      "--device",
      "device-001",
      "--token",
      "bootstrap-1",
      "--ca-bundle",
      dir.file("trust.pem"),
    );
    expect(enrolled).toMatchObject({ code: 0, err: [] });
    expect(enrolled.out[0]).toBe("subject:   CN=device-001");

    const files = (await readdir(state)).sort();
    expect(files).toEqual(["agent.json", "ca-bundle.pem", "certificate.pem", "keys", "trust.pem"]);
    const [keyFile] = await readdir(join(state, "keys"));
    expect((await stat(join(state, "keys", keyFile!))).mode & 0o777).toBe(0o600);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    const first = await pem(join(state, "certificate.pem"));
    expect(first.checkIssued(new X509Certificate(chain.issuingPem))).toBe(true);

    const shown = await agent("status", ...common, "--json");
    const status = JSON.parse(shown.out[0]!) as Record<string, string>;
    expect(status).toMatchObject({
      subject: "CN=device-001",
      serial: first.serialNumber,
      deviceId: "device-001",
      keyStore: "file",
    });
    const lifetime = Date.parse(status.notAfter!) - Date.parse(status.notBefore!);
    expect(Date.parse(status.renewAt!) - Date.parse(status.notBefore!)).toBe(Math.floor((lifetime * 2) / 3));

    const renewed = await agent("renew", ...common);
    expect(renewed).toMatchObject({ code: 0, err: [] });
    // It re-enrolled with its certificate, then used the new one (which the real server takes as
    // its confirmation; this stand-in has no /csrattrs, so the agent says it is not confirmed yet).
    expect(server.requests.slice(-2)).toMatchObject([
      { path: "/.well-known/est/simplereenroll", clientCertificate: true },
      { path: "/.well-known/est/csrattrs", clientCertificate: true },
    ]);
    expect(renewed.out).toContain("confirmed: not yet (the device's next request with it confirms it)");
    const second = await pem(join(state, "certificate.pem"));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.subject).toBe(first.subject);
    expect(second.publicKey.equals(first.publicKey)).toBe(false);
    const keys = await readdir(join(state, "keys"));
    expect(keys).toHaveLength(1); // the old key is destroyed once the new certificate is in place
    expect(keys[0]).not.toBe(keyFile);
  });

  test("enrolls with its key inside a SoftHSM2 token and renews through the native API, signing in the token", async () => {
    token = await softHsmToken();
    await dir.write("pin", `${token.pin}\n`);
    server = await estServer({ chain, tokens: new Map([["device-hsm", "bootstrap-2"]]) });
    const state = stateDir();
    const hsm = [
      "--key-store",
      "pkcs11",
      "--pkcs11-module",
      token.module,
      "--pkcs11-token",
      token.token,
      "--pkcs11-pin-file",
      dir.file("pin"),
    ];
    const enrolled = await agent(
      "enroll",
      "--state",
      state,
      "--server",
      server.url.href,
      "--device",
      "device-hsm",
      "--token",
      "bootstrap-2",
      "--ca-bundle",
      dir.file("trust.pem"),
      ...hsm,
    );
    expect(enrolled).toMatchObject({ code: 0, err: [] });
    const saved = JSON.parse(await readFile(join(state, "agent.json"), "utf8")) as {
      key: { handle: string };
    };
    expect(saved.key.handle).toMatch(/^pkcs11:token=keyfleet-test;object=keyfleet-agent%20device-hsm;id=/);
    expect(await readdir(state)).not.toContain("keys"); // nothing of the key on disk

    const first = await pem(join(state, "certificate.pem"));
    const renewed = await agent("renew", "--state", state);
    expect(renewed).toMatchObject({ code: 0, err: [] });
    // It renewed through the native API, then signed a status check with the new key in the token:
    // the real server's confirmation (a token key cannot show itself in a TLS handshake from node).
    const paths = server.requests.map((r) => r.path);
    const renewal = paths.lastIndexOf("/api/v1/enroll");
    expect(renewal).toBeGreaterThan(-1);
    expect(paths.slice(renewal + 1).at(-1)).toMatch(/^\/api\/v1\/enroll\/status/);
    const second = await pem(join(state, "certificate.pem"));
    expect(second.publicKey.equals(first.publicKey)).toBe(false);
    expect(second.subject).toBe("CN=device-hsm");
  });

  test("a renewal cut short after the new certificate was written is finished by the next run", async () => {
    server = await estServer({ chain, tokens: new Map([["device-cut", "t"]]) });
    const state = stateDir();
    const args = ["--state", state];
    await agent(
      "enroll",
      ...args,
      "--server",
      server.url.href,
      "--device",
      "device-cut",
      "--token",
      "t",
      "--ca-bundle",
      dir.file("trust.pem"),
    );
    const before = JSON.parse(await readFile(join(state, "agent.json"), "utf8")) as Record<string, unknown>;
    expect((await agent("renew", ...args)).code).toBe(0);
    const after = JSON.parse(await readFile(join(state, "agent.json"), "utf8")) as Record<string, unknown>;
    // Power cut: the new certificate is on disk, agent.json still names the old key with the new one pending.
    await writeFile(join(state, "agent.json"), JSON.stringify({ ...before, pendingKey: after.key }));
    await writeFile(join(state, "keys", (before.key as { handle: string }).handle), "old key, still there", {
      mode: 0o600,
    });
    expect((await agent("renew", ...args)).code).toBe(0);
    const settled = JSON.parse(await readFile(join(state, "agent.json"), "utf8")) as Record<string, unknown>;
    expect(settled.pendingKey).toBeUndefined();
    expect(await readdir(join(state, "keys"))).toEqual([(settled.key as { handle: string }).handle]);
  });

  test("a failed enrollment leaves no key behind and prints one line with the code", async () => {
    server = await estServer({ chain, tokens: new Map() });
    const state = stateDir();
    const failed = await agent(
      "enroll",
      "--state",
      state,
      "--server",
      server.url.href,
      "--device",
      "device-x",
      "--token",
      "wrong",
      "--ca-bundle",
      dir.file("trust.pem"),
    );
    expect(failed).toEqual({
      code: 1,
      out: [],
      err: [
        'keyfleet-agent: EST /simpleenroll: the server answered 401 "authentication required" (unauthorized)',
      ],
    });
    expect(await readdir(join(state, "keys"))).toEqual([]);
    expect(await readdir(state)).not.toContain("agent.json");
  });

  test.each([
    [
      ["enroll", "--server", "https://127.0.0.1:1"],
      "keyfleet-agent: enroll needs --device (malformed-request)",
    ],
    [
      ["enroll", "--server", "https://h", "--device", "d"],
      "keyfleet-agent: enroll needs one of --token, --token-file or --idevid-cert with --idevid-key (malformed-request)",
    ],
    [
      ["enroll", "--server", "https://h", "--device", "d", "--token", "t", "--key-store", "pkcs11"],
      "keyfleet-agent: --key-store pkcs11 needs --pkcs11-module, --pkcs11-token and --pkcs11-pin-file (malformed-request)",
    ],
    [
      ["status", "--frobnicate"],
      expect.stringMatching(/^keyfleet-agent: Unknown option '--frobnicate'.*\(malformed-request\)$/),
    ],
    [
      ["launch"],
      'keyfleet-agent: unknown command "launch"; use enroll, renew, status, check-in, erase, refresh, check-peer or run (malformed-request)',
    ],
  ])("refuses %j in one line", async (args, line) => {
    expect(await agent(...args)).toEqual({ code: 1, out: [], err: [line] });
  });

  test("status without an enrollment says to enroll first", async () => {
    const state = stateDir();
    const shown = await agent("status", "--state", state);
    expect(shown.err[0]).toMatch(
      /^keyfleet-agent: no agent state in .*: run `keyfleet-agent enroll` first \(not-found\)$/,
    );
  });

  test("a second enroll into the same state directory is refused (conflict)", async () => {
    server = await estServer({ chain, tokens: new Map([["d2", "t"]]) });
    const state = stateDir();
    const args = [
      "enroll",
      "--state",
      state,
      "--server",
      server.url.href,
      "--device",
      "d2",
      "--token",
      "t",
      "--ca-bundle",
      dir.file("trust.pem"),
    ];
    expect((await agent(...args)).code).toBe(0);
    expect((await agent(...args)).err[0]).toMatch(/already holds an enrolled agent.*\(conflict\)$/);
  });
});
