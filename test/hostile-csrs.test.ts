/**
 * Issue 13, end to end: a CSR whose key needs no private key (defect 1) is refused by issuance
 * with `weak-key`, through the in-process reader and through the CSR worker threads the server
 * uses, and no certificate is written; a CSR built to cost CPU (defect 3) is refused on its size
 * with a short answer. The "signatures" here are made from public data alone and verify in
 * OpenSSL: the attack is real, and only the key check stops it.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { Authority } from "../src/ca/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { toPem } from "../src/pki/index.js";
import { derNull, sequence, set, tlv } from "../src/pki/der.js";
import { ecSpki, exponentOneCsr, signedCsr, smallOrderEd25519Csr } from "../src/pki/test-csr.js";
import { testApp, type TestApp } from "./support/app.js";
import { initializedAuthority } from "./support/authority.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";

const pem = (der: Uint8Array): string => toPem("CERTIFICATE REQUEST", der);
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

/** The requests of defect 1, each with the rule its refusal names. */
function weakKeyCsrs(): [string, Uint8Array, RegExp][] {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const modulus = Buffer.from(publicKey.export({ format: "jwk" }).n!, "base64url");
  const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = p256.publicKey.export({ format: "jwk" });
  const y = Buffer.from(jwk.y!, "base64url");
  const compressed = Uint8Array.from([2 | (y.at(-1)! & 1), ...Buffer.from(jwk.x!, "base64url")]);
  return [
    ["an RSA key with e = 1", exponentOneCsr(modulus), /RSA public exponent 1 is below 65537/],
    ["the Ed25519 identity point", smallOrderEd25519Csr(hex("01".padEnd(64, "0"))), /small order/],
    [
      "an Ed25519 point of order 8",
      smallOrderEd25519Csr(hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")),
      /small order/,
    ],
    [
      "a compressed P-256 point (signed with its real key)",
      signedCsr(p256.privateKey, "ecdsa-sha256", { spki: ecSpki("P-256", compressed) }),
      /send the uncompressed form/,
    ],
  ];
}

/** A CSR with one OBJECT IDENTIFIER arc of `octets` octets, in an attribute Keyfleet ignores. */
function longArcCsr(octets: number): Uint8Array {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const arc = [...new Array<number>(octets - 1).fill(0x81), 0x01];
  const type = tlv(0x06, Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, ...arc));
  return signedCsr(privateKey, "ecdsa-sha256", {
    spki: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    attributes: [sequence(type, set(derNull))],
  });
}

forEachDatabase("issuance refuses keys that need no private key", (kind) => {
  let t: TestDatabase;
  let authority: Authority;
  const certificateCount = () =>
    t.database.db
      .selectFrom("certificates")
      .select(t.database.db.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));

  beforeEach(async () => {
    t = await testDatabase(kind);
    authority = await initializedAuthority(t.database);
  });
  afterEach(() => t.dispose());

  test("every weak key, with weak-key naming the rule, and no certificate row written", async () => {
    const before = await certificateCount();
    for (const [name, der, rule] of weakKeyCsrs()) {
      await expect(authority.issue({ csr: pem(der) }), name).rejects.toMatchObject({
        code: "weak-key",
        message: expect.stringMatching(rule),
      });
      await expect(
        authority.issue({ csr: der, requestId: `weak-${name.length}` }),
        name,
      ).rejects.toMatchObject({
        code: "weak-key",
      });
    }
    expect(await certificateCount()).toBe(before);
  });
});

describe("over HTTP, through the CSR worker threads", () => {
  let t: TestApp;
  let http: FastifyInstance;
  let admin: string;

  beforeAll(async () => {
    t = await testApp("pglite"); // csrWorkers: 2, as `keyfleet serve` runs
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
  });

  const issue = (csr: string) =>
    http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      payload: { csr },
      headers: { authorization: `Bearer ${admin}` },
    });

  test("a weak key is a 400 weak-key problem whose type has a page, and nothing is written", async () => {
    const before = await t.certificateCount();
    for (const [name, der, rule] of weakKeyCsrs()) {
      const res = await issue(pem(der));
      expect(res.statusCode, name).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: "weak-key", type: "/problems/weak-key", status: 400 });
      expect(res.json().detail).toMatch(rule);
    }
    expect(await t.certificateCount()).toBe(before);
    const page = await http.inject("/problems/weak-key");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("What to do");
  });

  test("the probe's CSR with a 45 KB OID arc is refused with a short answer", async () => {
    const csr = pem(longArcCsr(45_000));
    expect(csr.length).toBeGreaterThan(60_000);
    const res = await issue(csr);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "malformed-request" });
    expect(res.json().detail).toMatch(/octets; Keyfleet reads CSRs of at most 32768/);
    expect(res.body.length).toBeLessThan(400);
  });

  test("a 30 KB OID arc, inside the size limit, is refused before it is turned into a number", async () => {
    const res = await issue(pem(longArcCsr(30_000)));
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/OBJECT IDENTIFIER of \d+ octets \(at most 100 are read\)/);
    expect(res.body.length).toBeLessThan(400);
  });
});
