/** The admin API for tokens: list, create, revoke, rotate; admin and unscoped only; bad input changes nothing. */
import type { FastifyInstance } from "fastify";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";

forEachDatabase("admin API: tokens", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let admin: string;
  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
  });

  const call = (method: "GET" | "POST", url: string, token: string, payload?: object) =>
    http.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const count = () => t.app.tokens.count();

  test("an admin creates, lists, rotates and revokes a token; revocation holds on the next request", async () => {
    const created = await call("POST", "/api/v1/tokens", admin, {
      role: "auditor",
      description: "dashboards",
      ttlSeconds: 3600,
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: string; token: string; expiresAt: string; state: string }>();
    expect(body).toMatchObject({ state: "active", token: expect.stringMatching(/^kf_/) });

    const listed = await call("GET", "/api/v1/tokens?limit=500", admin);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(body.token);
    expect(listed.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toContain(body.id);

    expect((await call("GET", "/api/v1/cas", body.token)).statusCode).toBe(200);
    const rotated = await call("POST", `/api/v1/tokens/${body.id}/rotate`, admin);
    expect(rotated.statusCode).toBe(201);
    const successor = rotated.json<{ id: string; token: string }>();
    expect((await call("GET", "/api/v1/cas", body.token)).statusCode).toBe(401);
    expect((await call("GET", "/api/v1/cas", successor.token)).statusCode).toBe(200);

    const revoked = await call("POST", `/api/v1/tokens/${successor.id}/revoke`, admin);
    expect(revoked.json()).toMatchObject({ id: successor.id, state: "revoked" });
    const refused = await call("GET", "/api/v1/cas", successor.token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: "unauthorized", detail: "the bearer token was revoked" });
  });

  test("a token that never expires must be asked for with null", async () => {
    const res = await call("POST", "/api/v1/tokens", admin, { role: "auditor", ttlSeconds: null });
    expect(res.json()).toMatchObject({ expiresAt: null });
    const usual = await call("POST", "/api/v1/tokens", admin, { role: "auditor" });
    expect(Date.parse(usual.json<{ expiresAt: string }>().expiresAt)).toBeGreaterThan(
      Date.now() + 89 * 86400_000,
    );
  });

  test.each([
    ["an unknown role", { role: "root" }],
    ["an unknown field", { role: "auditor", ttl: 5 }],
    ["a zero lifetime", { role: "auditor", ttlSeconds: 0 }],
    ["a lifetime past a hundred years", { role: "admin", ttlSeconds: 300000000000 }],
    ["a scope on an unknown key", { role: "auditor", scopes: { group: ["a"] } }],
    ["an empty scope", { role: "auditor", scopes: { tenant: [] } }],
  ])("refuses %s with problem details and creates nothing", async (_name, payload) => {
    const before = await count();
    const res = await call("POST", "/api/v1/tokens", admin, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ code: "malformed-request" });
    expect(await count()).toBe(before);
  });

  test("only an unscoped admin manages tokens", async () => {
    const before = await count();
    const operator = (await t.app.tokens.create({ role: "operator" })).token;
    const scopedAdmin = (await t.app.tokens.create({ role: "admin", scopes: { tenant: ["acme"] } })).token;
    expect((await call("GET", "/api/v1/tokens", operator)).json()).toMatchObject({ code: "forbidden" });
    const widen = await call("POST", "/api/v1/tokens", scopedAdmin, { role: "admin" });
    expect(widen.statusCode).toBe(403);
    expect(widen.json()).toMatchObject({
      code: "forbidden",
      detail: expect.stringContaining("scoped token may not manage tokens"),
    });
    expect(await count()).toBe(before + 2);
  });

  test("an unknown or malformed token id is refused and nothing changes", async () => {
    expect(
      (await call("POST", "/api/v1/tokens/00000000-0000-4000-8000-000000000000/revoke", admin)).json(),
    ).toMatchObject({
      code: "not-found",
    });
    expect((await call("POST", "/api/v1/tokens/nope/revoke", admin)).statusCode).toBe(400);
    expect((await call("GET", "/api/v1/cas", admin)).statusCode).toBe(200);
  });
});
