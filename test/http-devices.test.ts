/** The device API: register, read with an ETag, lifecycle commands with If-Match and Idempotency-Key, history, the event feed. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";
import { lifecycleCounts } from "./support/registry.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { systemCaller } from "../src/policy/index.js";

forEachDatabase("device API", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let admin: string;
  let auditor: string;
  let acmeOperator: string;
  let dir: Workdir;
  let csr: string;

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    auditor = (await t.app.tokens.create({ role: "auditor" })).token;
    acmeOperator = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["acme"] } })).token;
    http = await buildHttpApp(t.app, "full");
    dir = await workdir();
    csr = await opensslCsr(dir, "p256", "/CN=api-device");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const as = (token: string, more: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...more,
  });
  const register = (token: string, body: object) =>
    http.inject({ method: "POST", url: "/api/v1/devices", payload: body, headers: as(token) });
  const command = (
    token: string,
    id: string,
    name: string,
    headers: Record<string, string> = {},
    payload: object = {},
  ) =>
    http.inject({
      method: "POST",
      url: `/api/v1/devices/${id}/${name}`,
      payload,
      headers: as(token, headers),
    });

  /** A registered device taken to active through the registry (enrollment will do this over the wire). */
  async function activeDevice(serialNumber: string, tenant = "default"): Promise<string> {
    const registered = await register(admin, { serialNumber, tenant });
    expect(registered.statusCode).toBe(201);
    const id = registered.json().id as string;
    await t.app.devices.issue({ csr, deviceId: id }, systemCaller);
    await t.app.devices.apply(id, { kind: "confirm" }, systemCaller, {
      evidence: [{ kind: "proof-of-possession", ref: "test" }],
    });
    return id;
  }

  test("registers a device (201, its version as ETag) and reads it back", async () => {
    const r = await register(admin, {
      serialNumber: "API-1",
      model: "meter",
      tenant: "acme",
      region: "eu-1",
    });
    expect(r.statusCode).toBe(201);
    expect(r.headers.etag).toBe('"1"');
    expect(r.json()).toMatchObject({
      serialNumber: "API-1",
      state: "registered",
      tenant: "acme",
      version: 1,
    });
    const got = await http.inject({
      method: "GET",
      url: `/api/v1/devices/${r.json().id}`,
      headers: as(admin),
    });
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');
  });

  test("suspend with a stale If-Match is 412 and changes nothing; with the current ETag it applies", async () => {
    const id = await activeDevice("API-2");
    const before = await lifecycleCounts(t.db.database);
    const stale = await command(admin, id, "suspend", { "if-match": '"2"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(stale.json()).toMatchObject({
      code: "precondition-failed",
      type: "/problems/precondition-failed",
    });
    expect(await lifecycleCounts(t.db.database)).toEqual(before);
    const ok = await command(admin, id, "suspend", { "if-match": '"3"' }, { reason: "battery swap" });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"4"');
    expect(ok.json()).toMatchObject({
      device: { state: "suspended" },
      event: { reason: "battery swap" },
      replayed: false,
    });
  });

  test("a retry with the same Idempotency-Key answers as the first call and writes nothing", async () => {
    const id = await activeDevice("API-3");
    const first = await command(admin, id, "suspend", { "idempotency-key": "op-42" });
    expect(first.statusCode).toBe(200);
    const before = await lifecycleCounts(t.db.database);
    const retry = await command(admin, id, "suspend", { "idempotency-key": "op-42" });
    expect(retry.json()).toMatchObject({ replayed: true, event: { id: first.json().event.id } });
    expect(await lifecycleCounts(t.db.database)).toEqual(before);
  });

  test("a transition the state forbids is 409 invalid-transition with its reason, and changes nothing", async () => {
    const id = await activeDevice("API-4");
    expect((await command(admin, id, "retire")).statusCode).toBe(200);
    expect((await command(admin, id, "finalize", {}, { compromised: true })).json()).toMatchObject({
      device: { state: "decommissioned" },
    });
    const before = await lifecycleCounts(t.db.database);
    const refused = await command(admin, id, "resume");
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: "invalid-transition" });
    expect(refused.json().detail).toMatch(/decommissioned/);
    expect(await lifecycleCounts(t.db.database)).toEqual(before);
    // And the serial never comes back, in any tenant.
    const again = await register(admin, { serialNumber: "API-4", tenant: "elsewhere" });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "identity-tombstoned" });
  });

  test("the history lists every transition with who and why", async () => {
    const id = await activeDevice("API-5");
    await command(admin, id, "suspend", {}, { reason: "audit" });
    const h = await http.inject({
      method: "GET",
      url: `/api/v1/devices/${id}/history`,
      headers: as(auditor),
    });
    expect(h.statusCode).toBe(200);
    expect(h.json().items.map((e: { command: string }) => e.command)).toEqual([
      "issue",
      "confirm",
      "suspend",
    ]);
    expect(h.json().items[2]).toMatchObject({ reason: "audit", actor: expect.stringMatching(/^token:/) });
  });

  test("an auditor reads but may not command (403, audited); a scoped operator acts only inside its scope", async () => {
    const id = await activeDevice("API-6", "globex");
    const leaves = async () => await t.app.audit.size();
    const before = await leaves();
    const denied = await command(auditor, id, "suspend");
    expect(denied.statusCode).toBe(403);
    expect(await leaves()).toBe(before + 1); // the refusal is an audit leaf
    expect((await t.app.devices.get(id, systemCaller)).state).toBe("active");

    expect((await command(acmeOperator, id, "suspend")).statusCode).toBe(404);
    expect(
      (await http.inject({ method: "GET", url: `/api/v1/devices/${id}`, headers: as(acmeOperator) }))
        .statusCode,
    ).toBe(404);
    const outside = await register(acmeOperator, { serialNumber: "API-7", tenant: "globex" });
    expect(outside.statusCode).toBe(403);
    expect((await register(acmeOperator, { serialNumber: "API-7", tenant: "acme" })).statusCode).toBe(201);
    const listed = await http.inject({
      method: "GET",
      url: "/api/v1/devices?limit=500",
      headers: as(acmeOperator),
    });
    expect(listed.json().items.every((d: { tenant: string }) => d.tenant === "acme")).toBe(true);
  });

  test("the event feed follows registrations and transitions by cursor; scoped tokens may not read it", async () => {
    const start = await http.inject({ method: "GET", url: "/api/v1/events?limit=500", headers: as(auditor) });
    expect(start.statusCode).toBe(200);
    let cursor = start.json().cursor as number | null;
    const id = await activeDevice("API-8");
    await command(admin, id, "suspend");
    const next = await http.inject({
      method: "GET",
      url: `/api/v1/events${cursor === null ? "" : `?after=${cursor}`}`,
      headers: as(auditor),
    });
    const items = next.json().items as {
      type: string;
      subject: string;
      payload: { command?: string };
      position: number;
    }[];
    const mine = items.filter((e) => e.subject === `device:${id}`);
    expect(mine.map((e) => e.payload.command ?? e.type)).toEqual([
      "device.registered",
      "issue",
      "confirm",
      "suspend",
    ]);
    cursor = next.json().cursor;
    const empty = await http.inject({
      method: "GET",
      url: `/api/v1/events?after=${cursor}`,
      headers: as(auditor),
    });
    expect(empty.json()).toEqual({ items: [], cursor });
    const scoped = await http.inject({ method: "GET", url: "/api/v1/events", headers: as(acmeOperator) });
    expect(scoped.statusCode).toBe(403);
  });

  test.each([
    ["a body with an unknown field", "/suspend", { force: true }, {}, 400],
    ["a malformed If-Match", "/suspend", {}, { "if-match": "3" }, 400],
    ["an unknown command", "/explode", {}, {}, 404],
    ["a reason of 501 characters", "/suspend", { reason: "r".repeat(501) }, {}, 400],
  ])("refuses %s and changes nothing", async (_name, path, payload, headers, status) => {
    const id = await activeDevice(
      `API-B-${status}-${path.length}-${Object.keys(headers).length}-${JSON.stringify(payload).length}`,
    );
    const before = await lifecycleCounts(t.db.database);
    const r = await http.inject({
      method: "POST",
      url: `/api/v1/devices/${id}${path}`,
      payload,
      headers: as(admin, headers),
    });
    expect(r.statusCode).toBe(status);
    expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(await lifecycleCounts(t.db.database)).toEqual(before);
  });

  test("a batch registers all its devices or none; the list filters them, certificate expiry included", async () => {
    const batch = (devices: object[]) =>
      http.inject({ method: "POST", url: "/api/v1/devices/batch", payload: { devices }, headers: as(admin) });
    const ok = await batch([
      { serialNumber: "BATCH-1", model: "gw", groups: ["lot-9"], labels: { site: "berlin" } },
      { serialNumber: "BATCH-2", model: "gw", groups: ["lot-9"], firmwareVersion: "3.1" },
    ]);
    expect(ok.statusCode).toBe(201);
    expect(ok.json().items).toHaveLength(2);
    const before = await lifecycleCounts(t.db.database);
    const refused = await batch([{ serialNumber: "BATCH-3" }, { serialNumber: "BATCH-1" }]);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/^device 1 of the batch: /);
    expect(await lifecycleCounts(t.db.database)).toEqual(before);
    const tooMany = await batch(Array.from({ length: 10_001 }, (_, i) => ({ serialNumber: `T-${i}` })));
    expect(tooMany.statusCode).toBe(400);
    expect(await lifecycleCounts(t.db.database)).toEqual(before);

    const list = async (query: string) =>
      (await http.inject({ method: "GET", url: `/api/v1/devices?limit=500&${query}`, headers: as(admin) }))
        .json()
        .items.map((d: { serialNumber: string }) => d.serialNumber)
        .sort();
    expect(await list("group=lot-9")).toEqual(["BATCH-1", "BATCH-2"]);
    expect(await list("group=lot-9&firmwareVersion=3.1")).toEqual(["BATCH-2"]);
    expect(await list("label=site%3Dberlin")).toEqual(["BATCH-1"]);
    await activeDevice("API-EXP");
    const inTwoYears = new Date(Date.now() + 2 * 366 * 24 * 3600 * 1000).toISOString(); // past its one year
    expect(await list(`certificateExpiringBefore=${inTwoYears}`)).toContain("API-EXP");
    expect(await list(`certificateExpiringBefore=${new Date().toISOString()}`)).not.toContain("API-EXP");
    for (const query of ["state=asleep", "certificateExpiringBefore=yesterday"]) {
      const bad = await http.inject({ method: "GET", url: `/api/v1/devices?${query}`, headers: as(admin) });
      expect(bad.statusCode, query).toBe(400);
    }
  });

  test("a bulk job over HTTP: a dry run, then a job the background task works, followed by its id", async () => {
    for (const n of [1, 2]) await register(admin, { serialNumber: `JOB-${n}`, groups: ["http-jobs"] });
    const start = (payload: object) =>
      http.inject({ method: "POST", url: "/api/v1/jobs", payload, headers: as(admin) });
    const dry = await start({ command: "retire", filter: { group: "http-jobs" }, dryRun: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, count: 2 });
    expect((await start({ command: "retire", filter: { group: "http-jobs" }, cap: 1 })).statusCode).toBe(400);
    expect((await start({ command: "explode", filter: { group: "http-jobs" } })).statusCode).toBe(400);
    const started = await start({ command: "retire", filter: { group: "http-jobs" }, reason: "trial over" });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ state: "running", total: 2, applied: 0 });
    await t.app.tasks.runNow("bulk-jobs");
    const job = await http.inject({
      method: "GET",
      url: `/api/v1/jobs/${started.json().id}`,
      headers: as(auditor),
    });
    expect(job.json()).toMatchObject({ state: "done", applied: 2, refused: 0, refusedItems: [] });
  });

  test("the OpenAPI document describes the device routes", async () => {
    const doc = (await http.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of [
      "/api/v1/devices",
      "/api/v1/devices/{id}",
      "/api/v1/devices/{id}/history",
      "/api/v1/devices/{id}/suspend",
      "/api/v1/events",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
