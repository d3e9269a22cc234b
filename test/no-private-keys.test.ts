/**
 * No private key is ever exposed: after initializing, issuing and making the HTTPS server's identity,
 * scan every database row, every file in the data directory, the logs and the API responses for
 * private key material — PEM markers, PKCS#8 structures, and the CA keys' own secret bytes (recovered
 * here with the passphrase), and the server's TLS key (which node:tls holds in memory, sealed at rest).
 */
import { createDecipheriv, createPrivateKey, scryptSync } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";
import { testPassphrase } from "./support/authority.js";
import { opensslCsr, workdir } from "./support/openssl.js";

const pkcs8Markers = {
  "PEM private key": Buffer.from("PRIVATE KEY-----"),
  "PKCS#8 EC": Buffer.from("020100301306072a8648ce3d0201", "hex"),
  "PKCS#8 Ed25519": Buffer.from("020100300506032b6570", "hex"),
  "PKCS#8 RSA": Buffer.from("020100300d06092a864886f70d010101", "hex"),
};

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The secret scalar of each CA key, decrypted independently of the key store's code. */
async function caSecrets(t: TestApp): Promise<Buffer[]> {
  const rows = await t.app.database.db
    .selectFrom("sealed_keys")
    .innerJoin("keys", (join) => join.on(sql<boolean>`keys.uri = 'keyfleet-sealed:' || sealed_keys.handle`))
    .selectAll()
    .where("keys.purpose", "=", "ca")
    .execute();
  return rows.map((row) => {
    const kek = scryptSync(testPassphrase, row.kdf_salt!, 32, {
      N: 1 << 15,
      r: 8,
      p: 1,
      maxmem: 64 * 1024 * 1024,
    });
    const decipher = createDecipheriv("aes-256-gcm", kek, row.iv);
    decipher.setAAD(Buffer.from(`keyfleet-sealed-key/v1 ${row.handle} ${row.algorithm}`));
    decipher.setAuthTag(row.tag);
    const pkcs8 = Buffer.concat([decipher.update(row.ciphertext), decipher.final()]);
    const jwk = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "jwk" });
    return Buffer.from(jwk.d!, "base64url");
  });
}

forEachDatabase("no private key is exposed", (kind) => {
  let t: TestApp;
  const haystacks: { where: string; bytes: Buffer }[] = [];
  let tlsSecret: Buffer;

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    const identity = await t.app.authority.serverTlsIdentity(["keyfleet.example.test"]);
    tlsSecret = Buffer.from(
      createPrivateKey(identity.privateKeyPem).export({ format: "jwk" }).d!,
      "base64url",
    );
    const http = await buildHttpApp(t.app, "full");
    const token = (await t.app.tokens.create({ role: "admin" })).token;
    const dir = await workdir();
    try {
      const csr = await opensslCsr(dir, "p256");
      for (const req of [
        { method: "POST" as const, url: "/api/v1/certificates", payload: { csr } },
        { method: "POST" as const, url: "/api/v1/certificates", payload: { csr: "junk" } },
        { method: "GET" as const, url: "/api/v1/cas" },
        { method: "GET" as const, url: "/api/v1/certificates" },
        { method: "GET" as const, url: "/readyz" },
        { method: "GET" as const, url: "/openapi.json" },
      ]) {
        const res = await http.inject({ ...req, headers: { authorization: `Bearer ${token}` } });
        haystacks.push({ where: `API ${req.method} ${req.url}`, bytes: res.rawPayload });
      }
    } finally {
      await http.close();
      await dir.dispose();
    }
    for (const table of ["keys", "sealed_keys", "issuers", "certificates", "devices", "api_tokens"]) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.table(table)} t`.execute(t.app.database.db);
      for (const r of rows.rows) haystacks.push({ where: `table ${table}`, bytes: Buffer.from(r.row) });
    }
    for (const dirPath of [t.dataDir, ...(t.db.dataDir ? [t.db.dataDir] : [])]) {
      for (const file of await filesUnder(dirPath))
        haystacks.push({ where: file, bytes: await readFile(file) });
    }
    haystacks.push({ where: "logs", bytes: Buffer.from(t.logs()) });
  });
  afterAll(() => t?.dispose());

  test("scans a real amount of material", () => {
    expect(haystacks.filter((h) => h.where.startsWith("table")).length).toBeGreaterThan(5);
    expect(haystacks.some((h) => h.where.startsWith("API POST"))).toBe(true);
  });

  test("finds no PEM private key and no PKCS#8 structure anywhere", () => {
    for (const [name, marker] of Object.entries(pkcs8Markers)) {
      const found = haystacks.filter(
        (h) => h.bytes.includes(marker) || h.bytes.includes(marker.toString("hex")),
      );
      expect(
        found.map((h) => h.where),
        name,
      ).toEqual([]);
    }
  });

  test("finds no CA key's secret bytes, nor the server's TLS key's, raw, hex or base64", async () => {
    const secrets = await caSecrets(t);
    expect(secrets).toHaveLength(2);
    const tlsKeys = await t.app.database.db
      .selectFrom("keys")
      .selectAll()
      .where("purpose", "=", "tls-server")
      .execute();
    expect(tlsKeys).toHaveLength(1); // the TLS key is in the scanned tables, sealed
    for (const secret of [...secrets, tlsSecret]) {
      const forms = [
        secret,
        Buffer.from(secret.toString("hex")),
        Buffer.from(secret.toString("base64")),
        Buffer.from(secret.toString("base64url")),
      ];
      const found = haystacks.filter((h) => forms.some((f) => h.bytes.includes(f)));
      expect(found.map((h) => h.where)).toEqual([]);
    }
  });
});
