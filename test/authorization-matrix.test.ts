/**
 * Every role × every admin API route × unscoped, in scope and out of scope: a role reaches exactly
 * the routes its permissions name; a scoped token reaches a device's resources inside its scope
 * only (outside, they do not exist for it: 404), never the fleet-wide routes (403), and creates
 * nothing outside its scope (403). A route added without a row here fails the test.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { allows, roles, systemCaller, type Permission, type Role } from "../src/policy/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testManufacturer } from "./support/idevid.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

/** How a route treats a scoped token. */
type Scoping =
  | "resource" // a device's resource: in scope as for an unscoped token, out of scope 404
  | "create" // creates in a tenant: in scope allowed, out of scope 403
  | "list" // lists inside the scope
  | "unscoped-only"; // fleet-wide: a scoped token is refused (403)

interface Fixture {
  /** A fresh device in this tenant (registered, with one certificate: provisioned). */
  device(tenant: string): Promise<{ id: string; serial: string }>;
  /** A bulk job over one fresh device of this tenant, made by an admin scoped to that tenant. */
  job(tenant: string): Promise<string>;
  csr: string;
}

interface Row {
  readonly method: "GET" | "POST" | "DELETE";
  /** As the OpenAPI document names it. */
  readonly path: string;
  readonly permission: Permission;
  readonly scoping: Scoping;
  /** The request, about a resource in `tenant`. */
  readonly request: (f: Fixture, tenant: string) => Promise<InjectOptions>;
}

const get = (url: string) => async (): Promise<InjectOptions> => ({ method: "GET", url });
const unknownToken = "00000000-0000-4000-8000-000000000000";

const matrix: readonly Row[] = [
  {
    method: "GET",
    path: "/api/v1/devices",
    permission: "device.read",
    scoping: "list",
    request: get("/api/v1/devices"),
  },
  {
    method: "POST",
    path: "/api/v1/devices",
    permission: "device.register",
    scoping: "create",
    request: async (_f, tenant) => ({
      method: "POST",
      url: "/api/v1/devices",
      payload: { serialNumber: `M-${Math.random().toString(36).slice(2, 10)}`, tenant },
    }),
  },
  {
    method: "POST",
    path: "/api/v1/devices/batch",
    permission: "device.register",
    scoping: "create",
    request: async (_f, tenant) => ({
      method: "POST",
      url: "/api/v1/devices/batch",
      payload: { devices: [{ serialNumber: `MB-${Math.random().toString(36).slice(2, 10)}`, tenant }] },
    }),
  },
  {
    method: "GET",
    path: "/api/v1/groups",
    permission: "device.read",
    scoping: "list",
    request: get("/api/v1/groups"),
  },
  {
    method: "GET",
    path: "/api/v1/devices/{id}",
    permission: "device.read",
    scoping: "resource",
    request: async (f, tenant) => ({ method: "GET", url: `/api/v1/devices/${(await f.device(tenant)).id}` }),
  },
  {
    method: "GET",
    path: "/api/v1/devices/{id}/history",
    permission: "device.read",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "GET",
      url: `/api/v1/devices/${(await f.device(tenant)).id}/history`,
    }),
  },
  ...(["suspend", "resume", "retire", "cancel", "finalize"] as const).map((command): Row => ({
    method: "POST",
    path: `/api/v1/devices/{id}/${command}`,
    permission: "device.lifecycle",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "POST",
      url: `/api/v1/devices/${(await f.device(tenant)).id}/${command}`,
      payload: {},
    }),
  })),
  {
    method: "POST",
    path: "/api/v1/certificates",
    permission: "cert.issue",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "POST",
      url: "/api/v1/certificates",
      payload: { csr: f.csr, deviceId: (await f.device(tenant)).id },
    }),
  },
  {
    method: "POST",
    path: "/api/v1/devices/{id}/bootstrap-tokens",
    permission: "cert.issue",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "POST",
      url: `/api/v1/devices/${(await f.device(tenant)).id}/bootstrap-tokens`,
      payload: {},
    }),
  },
  {
    method: "GET",
    path: "/api/v1/certificates",
    permission: "cert.read",
    scoping: "list",
    request: get("/api/v1/certificates"),
  },
  {
    method: "GET",
    path: "/api/v1/certificates/{serial}",
    permission: "cert.read",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "GET",
      url: `/api/v1/certificates/${(await f.device(tenant)).serial}`,
    }),
  },
  {
    method: "POST",
    path: "/api/v1/certificates/{serial}/revocation",
    permission: "cert.revoke",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "POST",
      url: `/api/v1/certificates/${(await f.device(tenant)).serial}/revocation`,
      payload: { reason: "keyCompromise" },
    }),
  },
  {
    method: "DELETE",
    path: "/api/v1/certificates/{serial}/revocation",
    permission: "cert.revoke",
    scoping: "resource",
    request: async (f, tenant) => ({
      method: "DELETE",
      url: `/api/v1/certificates/${(await f.device(tenant)).serial}/revocation`,
    }),
  },
  { method: "GET", path: "/api/v1/cas", permission: "ca.read", scoping: "list", request: get("/api/v1/cas") },
  {
    method: "GET",
    path: "/api/v1/cas/chain",
    permission: "ca.read",
    scoping: "list",
    request: get("/api/v1/cas/chain"),
  },
  {
    method: "GET",
    path: "/api/v1/tokens",
    permission: "token.manage",
    scoping: "unscoped-only",
    request: get("/api/v1/tokens"),
  },
  {
    method: "POST",
    path: "/api/v1/tokens",
    permission: "token.manage",
    scoping: "unscoped-only",
    request: async () => ({
      method: "POST",
      url: "/api/v1/tokens",
      payload: { role: "viewer", ttlSeconds: 60 },
    }),
  },
  {
    method: "POST",
    path: "/api/v1/tokens/{id}/revoke",
    permission: "token.manage",
    scoping: "unscoped-only",
    request: async () => ({ method: "POST", url: `/api/v1/tokens/${unknownToken}/revoke` }),
  },
  {
    method: "POST",
    path: "/api/v1/tokens/{id}/rotate",
    permission: "token.manage",
    scoping: "unscoped-only",
    request: async () => ({ method: "POST", url: `/api/v1/tokens/${unknownToken}/rotate` }),
  },
  {
    method: "GET",
    path: "/api/v1/audit/checkpoint",
    permission: "audit.read",
    scoping: "unscoped-only",
    request: get("/api/v1/audit/checkpoint"),
  },
  {
    method: "GET",
    path: "/api/v1/audit/entries",
    permission: "audit.read",
    scoping: "unscoped-only",
    request: get("/api/v1/audit/entries?limit=1"),
  },
  {
    method: "GET",
    path: "/api/v1/audit/proofs/inclusion",
    permission: "audit.read",
    scoping: "unscoped-only",
    request: get("/api/v1/audit/proofs/inclusion?index=0&size=1"),
  },
  {
    method: "GET",
    path: "/api/v1/audit/proofs/consistency",
    permission: "audit.read",
    scoping: "unscoped-only",
    request: get("/api/v1/audit/proofs/consistency?from=1&to=1"),
  },
  {
    method: "GET",
    path: "/api/v1/events",
    permission: "event.read",
    scoping: "unscoped-only",
    request: get("/api/v1/events"),
  },
  {
    method: "POST",
    path: "/api/v1/jobs",
    permission: "device.lifecycle",
    scoping: "list",
    request: async (f, tenant) => {
      await f.device(tenant);
      return {
        method: "POST",
        url: "/api/v1/jobs",
        payload: { command: "retire", filter: { tenant }, dryRun: true },
      };
    },
  },
  {
    method: "GET",
    path: "/api/v1/jobs",
    permission: "device.read",
    scoping: "list",
    request: get("/api/v1/jobs"),
  },
  {
    method: "GET",
    path: "/api/v1/jobs/{id}",
    permission: "device.read",
    scoping: "resource",
    request: async (f, tenant) => ({ method: "GET", url: `/api/v1/jobs/${await f.job(tenant)}` }),
  },
  {
    method: "GET",
    path: "/api/v1/policy",
    permission: "policy.read",
    scoping: "unscoped-only",
    request: get("/api/v1/policy"),
  },
  {
    method: "POST",
    path: "/api/v1/policy",
    permission: "policy.write",
    scoping: "unscoped-only",
    request: async () => ({
      method: "POST",
      url: "/api/v1/policy",
      payload: { document: "keyfleet: policy/v1\n", dryRun: true },
    }),
  },
  {
    method: "GET",
    path: "/api/v1/policy/versions",
    permission: "policy.read",
    scoping: "unscoped-only",
    request: get("/api/v1/policy/versions"),
  },
  {
    method: "GET",
    path: "/api/v1/policy/versions/{version}",
    permission: "policy.read",
    scoping: "unscoped-only",
    request: get("/api/v1/policy/versions/1"),
  },
  {
    method: "GET",
    path: "/api/v1/policy/diff",
    permission: "policy.read",
    scoping: "unscoped-only",
    request: get("/api/v1/policy/diff?from=1&to=1"),
  },
  {
    method: "POST",
    path: "/api/v1/manufacturers",
    permission: "manufacturer.manage",
    scoping: "unscoped-only",
    request: async () => {
      const maker = testManufacturer(`Maker ${randomUUID()}`);
      return {
        method: "POST",
        url: "/api/v1/manufacturers",
        payload: { name: maker.name, certificates: [Buffer.from(maker.ca.der).toString("base64")] },
      };
    },
  },
  {
    method: "GET",
    path: "/api/v1/manufacturers",
    permission: "manufacturer.read",
    scoping: "list",
    request: get("/api/v1/manufacturers"),
  },
  {
    method: "GET",
    path: "/api/v1/manufacturers/{id}",
    permission: "manufacturer.read",
    scoping: "list",
    request: get("/api/v1/manufacturers/Matrix%20Maker"),
  },
  {
    method: "POST",
    path: "/api/v1/manufacturers/{id}/certificates",
    permission: "manufacturer.manage",
    scoping: "unscoped-only",
    request: async () => ({
      method: "POST",
      url: "/api/v1/manufacturers/Matrix%20Maker/certificates",
      payload: { certificate: Buffer.from(testManufacturer(`CA ${randomUUID()}`).ca.der).toString("base64") },
    }),
  },
  {
    method: "GET",
    path: "/metrics",
    permission: "metrics.read",
    scoping: "unscoped-only",
    request: get("/metrics"),
  },
];

forEachDatabase("authorization matrix", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let dir: Workdir;
  let fixture: Fixture;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    tokens.set("admin", (await readFile(run.adminTokenFile!, "utf8")).trim());
    for (const role of roles) {
      if (role !== "admin") tokens.set(role, (await t.app.tokens.create({ role })).token);
      tokens.set(`${role}@acme`, (await t.app.tokens.create({ role, scopes: { tenant: ["acme"] } })).token);
    }
    await t.app.manufacturers.add(systemCaller, {
      name: "Matrix Maker",
      certificates: [testManufacturer("Matrix Maker").ca.der],
    });
    http = await buildHttpApp(t.app, "full");
    dir = await workdir();
    const csr = await opensslCsr(dir, "p256", "/CN=matrix");
    let n = 0;
    fixture = {
      csr,
      async device(tenant) {
        const device = await t.app.devices.register(
          { serialNumber: `MX-${kind}-${++n}`, tenant },
          systemCaller,
        );
        const issued = await t.app.devices.issue({ csr, deviceId: device.id }, systemCaller);
        return { id: device.id, serial: issued.serial };
      },
      async job(tenant) {
        await this.device(tenant);
        const scoped = { actor: "token:matrix", role: "admin" as const, scopes: { tenant: [tenant] } };
        const job = await t.app.jobs.start("retire", { tenant }, scoped);
        return (job as { id: string }).id;
      },
    };
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const send = async (token: string, options: InjectOptions) =>
    http.inject({ ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } });

  test("the matrix names every admin API route", async () => {
    const doc = (await http.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    // Device-facing routes (enrollment) take no API token: `security: []`; test/enroll-api.test.ts covers them.
    const documented = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/"))
      .flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => !(Array.isArray(op.security) && op.security.length === 0))
          .map(([m]) => `${m.toUpperCase()} ${path}`),
      );
    const covered = matrix.map((r) => `${r.method} ${r.path}`);
    expect([...covered].filter((r) => r !== "GET /metrics").sort()).toEqual(documented.sort());
  });

  test.each(roles.map((role) => [role]))("role %s: exactly its permissions, unscoped", async (role: Role) => {
    for (const row of matrix) {
      const r = await send(tokens.get(role)!, await row.request(fixture, "default"));
      const allowed = allows(role, row.permission);
      const what = `${role} ${row.method} ${row.path} → ${r.statusCode} ${r.body.slice(0, 200)}`;
      if (allowed) expect([401, 403], what).not.toContain(r.statusCode);
      else expect(r.statusCode, what).toBe(403);
    }
  });

  test.each(roles.map((role) => [role]))("role %s scoped to tenant acme: inside only", async (role: Role) => {
    const token = tokens.get(`${role}@acme`)!;
    for (const row of matrix) {
      const inside = await send(token, await row.request(fixture, "acme"));
      const outside = await send(token, await row.request(fixture, "globex"));
      const what = (r: { statusCode: number; body: string }) =>
        `${role}@acme ${row.method} ${row.path} → ${r.statusCode} ${r.body.slice(0, 200)}`;
      if (!allows(role, row.permission) || row.scoping === "unscoped-only") {
        expect(inside.statusCode, what(inside)).toBe(403);
        expect(outside.statusCode, what(outside)).toBe(403);
        continue;
      }
      expect([401, 403, 404], what(inside)).not.toContain(inside.statusCode);
      if (row.scoping === "resource") expect(outside.statusCode, what(outside)).toBe(404);
      if (row.scoping === "create") expect(outside.statusCode, what(outside)).toBe(403);
    }
  });
});
