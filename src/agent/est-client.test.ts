import { execFile } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { estChain, type EstChain } from "../../test/support/est-chain.js";
import { estServer, type EstTestServer } from "../../test/support/est-server.js";
import { workdir, type Workdir } from "../../test/support/openssl.js";
import { softwareSigner, type Signer } from "../crypto/index.js";
import { fromPem, writeCsr } from "../pki/index.js";
import { decodeEstBase64 } from "./est-base64.js";
import { EstClient } from "./est-client.js";

const exec = promisify(execFile);

let dir: Workdir;
let chain: EstChain;
let server: EstTestServer | undefined;

beforeAll(async () => {
  dir = await workdir();
  chain = await estChain(dir);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await dir.dispose();
});

function deviceKey(): { signer: Signer; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
  return {
    signer: softwareSigner({ uri: "keyfleet-file:t", algorithm: "p256", publicKey: spki }, privateKey),
    keyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

const csrFor = (signer: Signer, cn = "device-1"): Promise<Uint8Array> =>
  writeCsr({ subject: [{ type: "CN", value: cn }] }, signer);

const client = (extra: Partial<ConstructorParameters<typeof EstClient>[0]> = {}): EstClient =>
  new EstClient({ server: server!.url, ca: chain.chainPem, ...extra });

const pem = (der: Uint8Array): string => new X509Certificate(der).toString();

describe("EST client", () => {
  test("parses `openssl crl2pkcs7 -nocrl -certfile chain.pem -outform DER | base64` output", async () => {
    const { stdout } = await exec("sh", [
      "-c",
      `openssl crl2pkcs7 -nocrl -certfile ${dir.file("chain.pem")} -outform DER | base64`,
    ]);
    expect(stdout).toContain("\n"); // base64 wraps at 76 columns: line breaks RFC 8951 §3 allows
    const der = decodeEstBase64(stdout, "the answer");
    expect(Buffer.from(der).equals(Buffer.from(chain.chainPkcs7))).toBe(true);
  });

  test.each([false, true])(
    "/cacerts returns the CA chain in order (one-line base64: %s)",
    async (oneLine) => {
      server = await estServer({ chain, oneLine });
      const certificates = await client().cacerts();
      expect(certificates.map(pem)).toEqual(fromPem(chain.chainPem, "CERTIFICATE").map(pem));
    },
  );

  test("/simpleenroll with HTTP Basic (device id, one-time token) returns the certificate for the CSR's key", async () => {
    server = await estServer({ chain, tokens: new Map([["device-1", "bootstrap-secret"]]) });
    const { signer } = deviceKey();
    const [leaf, issuing] = await client().simpleenroll(await csrFor(signer), {
      kind: "basic",
      username: "device-1",
      password: "bootstrap-secret",
    });
    const cert = new X509Certificate(leaf!);
    expect(cert.subject).toBe("CN=device-1");
    expect(new Uint8Array(cert.publicKey.export({ format: "der", type: "spki" }))).toEqual(signer.publicKey);
    expect(cert.verify(new X509Certificate(issuing!).publicKey)).toBe(true);
    expect(server.requests.at(-1)).toMatchObject({
      contentType: "application/pkcs10",
      auth: expect.stringMatching(/^Basic /),
    });
  });

  test("a reused bootstrap token is refused: unauthorized, with the server's words", async () => {
    server = await estServer({ chain, tokens: new Map([["device-1", "once"]]) });
    const auth = { kind: "basic", username: "device-1", password: "once" } as const;
    await client().simpleenroll(await csrFor(deviceKey().signer), auth);
    await expect(client().simpleenroll(await csrFor(deviceKey().signer), auth)).rejects.toMatchObject({
      code: "unauthorized",
      message: 'EST /simpleenroll: the server answered 401 "authentication required"',
    });
  });

  test("/simplereenroll authenticates with the current certificate as TLS client certificate", async () => {
    server = await estServer({ chain, tokens: new Map([["device-1", "t"]]) });
    const first = deviceKey();
    const [current] = await client().simpleenroll(await csrFor(first.signer), {
      kind: "basic",
      username: "device-1",
      password: "t",
    });
    const next = deviceKey();
    const [renewed] = await client().simplereenroll(await csrFor(next.signer), {
      kind: "tls",
      certificatePem: pem(current!),
      keyPem: first.keyPem,
    });
    expect(server.requests.at(-1)).toMatchObject({
      path: "/.well-known/est/simplereenroll",
      clientCertificate: true,
    });
    expect(
      new Uint8Array(new X509Certificate(renewed!).publicKey.export({ format: "der", type: "spki" })),
    ).toEqual(next.signer.publicKey);
  });

  test("honours 202 + Retry-After, waiting with a little jitter, then takes the certificate", async () => {
    server = await estServer({
      chain,
      tokens: new Map([["device-1", "t"]]),
      holdFirst: { count: 2, retryAfter: "3" },
    });
    const waits: number[] = [];
    const [leaf] = await client({ sleep: async (ms) => void waits.push(ms), random: () => 0.5 }).simpleenroll(
      await csrFor(deviceKey().signer),
      {
        kind: "basic",
        username: "device-1",
        password: "t",
      },
    );
    expect(leaf).toBeDefined();
    expect(waits).toEqual([3150, 3150]); // 3 s asked, +5 % at random = 0.5 of the 10 % jitter
  });

  test("gives up on a request still pending after maxPendingMs: unavailable", async () => {
    server = await estServer({
      chain,
      tokens: new Map([["device-1", "t"]]),
      holdFirst: { count: 99, retryAfter: "120" },
    });
    await expect(
      client({ maxPendingMs: 60_000, sleep: async () => undefined }).simpleenroll(
        await csrFor(deviceKey().signer),
        { kind: "basic", username: "device-1", password: "t" },
      ),
    ).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("pending approval") });
  });

  test("an unreachable server is unavailable; an untrusted one is invalid-configuration", async () => {
    await expect(
      new EstClient({ server: new URL("https://127.0.0.1:1"), ca: chain.chainPem }).cacerts(),
    ).rejects.toMatchObject({ code: "unavailable" });
    server = await estServer({ chain });
    // No CA bundle: the system's roots, which do not hold the test root.
    await expect(new EstClient({ server: server.url }).cacerts()).rejects.toMatchObject({
      code: "invalid-configuration",
    });
  });

  test("refuses an http:// server URL", () => {
    expect(() => new EstClient({ server: new URL("http://127.0.0.1:8080") })).toThrow(
      expect.objectContaining({ code: "invalid-configuration" }),
    );
  });
});
