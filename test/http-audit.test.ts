/** The audit log on the admin API: checkpoint, entries, proofs; unscoped auditors and admins only. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from "../src/audit/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("admin API: audit log", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let dir: Workdir;
  let admin: string;
  let auditor: string;
  let serial: string;
  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    auditor = (await t.app.tokens.create({ role: "auditor" })).token;
    http = await buildHttpApp(t.app, "full");
    dir = await workdir();
    const csr = await opensslCsr(dir, "p256", "/CN=api-audited");
    const res = await http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      payload: { csr },
      headers: { authorization: `Bearer ${admin}` },
    });
    serial = res.json().serial;
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const get = (url: string, token = auditor) =>
    http.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

  test("an auditor proves a certificate's issuance against the signed checkpoint, and its consistency with an older one", async () => {
    await t.app.tasks.runNow("audit-checkpoint"); // what the server does each minute
    const older = (await get("/api/v1/audit/checkpoint")).json<{ size: number; note: string }>();
    await t.app.tokens.create({ role: "auditor" }); // the log grows
    await t.app.tasks.runNow("audit-checkpoint");
    const head = await get("/api/v1/audit/checkpoint");
    expect(head.statusCode).toBe(200);
    const key = parseVerifierKey(await t.app.checkpoints.verifierKey());
    const checkpoint = openCheckpoint(head.json().note, key);
    expect(checkpoint.size).toBe(older.size + 1);

    const inclusion = await get(`/api/v1/audit/proofs/inclusion?serial=${serial}&size=${checkpoint.size}`);
    expect(inclusion.statusCode).toBe(200);
    const { index, proof } = inclusion.json<{ index: number; proof: string[] }>();
    const entry = (await get(`/api/v1/audit/entries?from=${index}&limit=1`)).json().items[0].entry as string;
    expect(JSON.parse(entry)).toMatchObject({ type: "certificate.issued", subject: `certificate:${serial}` });
    const hashes = proof.map((p) => new Uint8Array(Buffer.from(p, "base64")));
    expect(
      verifyInclusion(
        leafHash(new TextEncoder().encode(entry)),
        index,
        checkpoint.size,
        hashes,
        checkpoint.root,
      ),
    ).toBe(true);

    const consistency = await get(
      `/api/v1/audit/proofs/consistency?from=${older.size}&to=${checkpoint.size}`,
    );
    const oldRoot = openCheckpoint(older.note, key).root;
    const cproof = consistency
      .json<{ proof: string[] }>()
      .proof.map((p) => new Uint8Array(Buffer.from(p, "base64")));
    expect(verifyConsistency(older.size, checkpoint.size, oldRoot, checkpoint.root, cproof)).toBe(true);
  });

  test("proofs outside the log are 400 problems; an unknown serial is 404", async () => {
    const size = await t.app.audit.size();
    for (const url of [
      `/api/v1/audit/proofs/inclusion?index=${size}`,
      `/api/v1/audit/proofs/inclusion?index=0&size=${size + 1}`,
      "/api/v1/audit/proofs/inclusion",
      `/api/v1/audit/proofs/consistency?from=0&to=${size}`,
      `/api/v1/audit/proofs/consistency?from=2&to=${size + 5}`,
      "/api/v1/audit/entries?limit=5000",
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
    expect((await get("/api/v1/audit/proofs/inclusion?serial=0a0b0c")).statusCode).toBe(404);
  });

  test("operators and scoped tokens may not read it", async () => {
    const operator = (await t.app.tokens.create({ role: "operator" })).token;
    const scoped = (await t.app.tokens.create({ role: "auditor", scopes: { tenant: ["acme"] } })).token;
    expect((await get("/api/v1/audit/checkpoint", operator)).statusCode).toBe(403);
    const res = await get("/api/v1/audit/entries", scoped);
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/scoped token may not read the audit log/);
  });
});
