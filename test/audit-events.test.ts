/**
 * Issue 14: every identity event is a leaf of the audit log, written in the transaction of the
 * change it records, and each one proves its inclusion in the tree.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  type AuditEntry,
} from "../src/audit/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { forEachDatabase } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

forEachDatabase("audit events", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let dir: Workdir;
  let admin: string;
  let adminId: string;
  let csr: string;

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256", actor: "cli:tester" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    adminId = (await t.app.tokens.list()).items[0]!.id;
    http = await buildHttpApp(t.app, "full");
    dir = await workdir();
    csr = await opensslCsr(dir, "p256", "/CN=audited-device");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const call = (method: "GET" | "POST", url: string, token: string | undefined, payload?: object) =>
    http.inject({
      method,
      url,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const all = async () => t.app.audit.entries(0, 1000);
  const about = async (subject: string) => (await t.app.audit.entriesAbout(subject)).map((e) => e.entry);

  test("creating the authority records its CAs, its public URL and the first admin token", async () => {
    const types = (await all()).map((e) => `${e.entry.type} ${e.entry.actor}`);
    expect(types).toEqual([
      "ca.created cli:tester",
      "ca.created cli:tester",
      "setting.changed cli:tester",
      "token.created system",
    ]);
    const cas = await t.app.authority.cas();
    const root = cas.find((c) => c.kind === "root");
    const issuing = cas.find((c) => c.kind === "intermediate");
    const [created] = await about(`ca:${issuing!.id}`);
    expect(created!.details).toMatchObject({
      kind: "intermediate",
      parent: root!.id,
      serial: issuing!.serial,
    });
  });

  test("an issued certificate: who asked, what was signed (SHA-256 of the DER), under which profile", async () => {
    const res = await call("POST", "/api/v1/certificates", admin, { csr, requestId: "audited-1" });
    expect(res.statusCode).toBe(201);
    const issued = res.json<{ serial: string; pem: string }>();
    const [entry] = await about(`certificate:${issued.serial}`);
    const der = Buffer.from(issued.pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    expect(entry).toMatchObject({
      type: "certificate.issued",
      actor: `token:${adminId}`,
      details: {
        serial: issued.serial,
        sha256: createHash("sha256").update(der).digest("hex"),
        profile: "client",
        device: null,
        requestId: "audited-1",
      },
    });
    // A retry is not a second issuance.
    await call("POST", "/api/v1/certificates", admin, { csr, requestId: "audited-1" });
    expect(await about(`certificate:${issued.serial}`)).toHaveLength(1);
  });

  test("a refused issuance writes nothing; a refused privileged request is recorded, without the token", async () => {
    const before = await t.app.audit.size();
    expect((await call("POST", "/api/v1/certificates", admin, { csr: "not a csr" })).statusCode).toBe(400);
    expect(await t.app.audit.size()).toBe(before);

    const forged = "kf_" + "A".repeat(43);
    expect((await call("GET", "/api/v1/cas", forged)).statusCode).toBe(401);
    expect((await call("GET", "/api/v1/cas", undefined)).statusCode).toBe(401);
    const operator = await t.app.tokens.create({ role: "operator", actor: "cli:tester" });
    expect((await call("POST", "/api/v1/tokens", operator.token, { role: "admin" })).statusCode).toBe(403);

    // A flood of the same refusal is one leaf a minute (src/http/refusal-limiter.ts), not one each.
    for (let i = 0; i < 50; i++) await call("GET", "/api/v1/cas", forged);
    const refusals = (await all()).slice(before).filter((e) => e.entry.type === "request.refused");
    expect(refusals.map((e) => [e.entry.actor, e.entry.subject, e.entry.details.code])).toEqual([
      ["anonymous", "request:GET /api/v1/cas", "unauthorized"],
      [`token:${operator.id}`, "request:POST /api/v1/tokens", "forbidden"],
    ]);
    const text = (await all()).map((e) => e.text).join("\n");
    expect(text).not.toContain(forged);
    expect(text).not.toContain(operator.token);
    expect(text).not.toContain(admin);
  });

  test("a refusal after authentication (a scope that does not cover the request) is recorded too", async () => {
    const scoped = await t.app.tokens.create({
      role: "auditor",
      scopes: { tenant: ["acme"] },
      actor: "cli:tester",
    });
    expect((await call("GET", "/api/v1/audit/entries", scoped.token)).statusCode).toBe(403);
    const [refused] = await about("request:GET /api/v1/audit/entries");
    expect(refused).toMatchObject({ actor: `token:${scoped.id}`, details: { code: "forbidden" } });
  });

  test("tokens created, rotated and revoked through the API name the admin who did it", async () => {
    const created = (await call("POST", "/api/v1/tokens", admin, { role: "auditor" })).json<{ id: string }>();
    const rotated = (await call("POST", `/api/v1/tokens/${created.id}/rotate`, admin)).json<{ id: string }>();
    expect((await call("POST", `/api/v1/tokens/${rotated.id}/revoke`, admin)).statusCode).toBe(200);
    const byAdmin = (e: AuditEntry) => [e.type, e.actor];
    expect((await about(`token:${created.id}`)).map(byAdmin)).toEqual([
      ["token.created", `token:${adminId}`],
      ["token.revoked", `token:${adminId}`],
    ]);
    expect((await about(`token:${created.id}`))[1]!.details).toEqual({
      id: created.id,
      successor: rotated.id,
    });
    expect((await about(`token:${rotated.id}`)).map((e) => e.type)).toEqual([
      "token.created",
      "token.revoked",
    ]);
  });

  test("events between two checkpoints prove their inclusion in the later one, which is consistent with the earlier", async () => {
    const before = await t.app.checkpoints.sign();
    const key = parseVerifierKey(await t.app.checkpoints.verifierKey());
    const issued = (await call("POST", "/api/v1/certificates", admin, { csr })).json<{ serial: string }>();
    const token = (await call("POST", "/api/v1/tokens", admin, { role: "auditor" })).json<{ id: string }>();
    expect(await t.app.tasks.runNow("audit-checkpoint")).toBe(true); // the periodic task, run once
    const after = (await t.app.checkpoints.latest())!;
    expect(after.size).toBe(before.size + 2);
    const [older, newer] = [openCheckpoint(before.note, key), openCheckpoint(after.note, key)];
    const proof = await t.app.audit.consistencyProof(older.size, newer.size);
    expect(verifyConsistency(older.size, newer.size, older.root, newer.root, proof)).toBe(true);
    for (const subject of [`certificate:${issued.serial}`, `token:${token.id}`]) {
      const [e] = await t.app.audit.entriesAbout(subject);
      const p = await t.app.audit.inclusionProof(e!.index, newer.size);
      expect(
        verifyInclusion(
          leafHash(new TextEncoder().encode(e!.text)),
          e!.index,
          newer.size,
          p.proof,
          newer.root,
        ),
      ).toBe(true);
    }
    // Nothing new: the task signs nothing more.
    await t.app.tasks.runNow("audit-checkpoint");
    expect((await t.app.checkpoints.latest())!.size).toBe(after.size);
  });

  test("every entry proves its inclusion in the current tree", async () => {
    const { size, root } = await t.app.audit.root();
    const entries = await all();
    expect(entries).toHaveLength(size);
    for (const e of entries) {
      const proof = await t.app.audit.inclusionProof(e.index, size);
      const hash = leafHash(new TextEncoder().encode(e.text));
      expect(verifyInclusion(hash, e.index, size, proof.proof, root), `entry ${e.index}`).toBe(true);
    }
  });
});
