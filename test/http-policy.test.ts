/** The policy API: apply (and dry-run), the version in force, versions, diff; refusals as problem+json. */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";

const document = `keyfleet: policy/v1
issuance:
  - rule: everything
    validityDays: 90
`;

forEachDatabase("policy API", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let policyAdmin: string;
  let auditor: string;

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    policyAdmin = (await t.app.tokens.create({ role: "policy-admin" })).token;
    auditor = (await t.app.tokens.create({ role: "auditor" })).token;
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const apply = (body: object) =>
    http.inject({ method: "POST", url: "/api/v1/policy", payload: body, headers: as(policyAdmin) });

  test("apply, read, list and diff versions", async () => {
    const builtIn = await http.inject({ method: "GET", url: "/api/v1/policy", headers: as(auditor) });
    expect(builtIn.json()).toMatchObject({ version: 0, document: null });

    expect((await apply({ document, dryRun: true })).json()).toEqual({ valid: true });
    expect(
      (await http.inject({ method: "GET", url: "/api/v1/policy/versions", headers: as(auditor) })).json(),
    ).toEqual({
      items: [],
      next: null,
    });

    const first = await apply({ document, comment: "90 days for all" });
    expect(first.statusCode).toBe(201);
    const v1 = first.json<{ version: number }>();
    expect(first.headers.location).toBe(`/api/v1/policy/versions/${v1.version}`);
    const again = await apply({ document, comment: "the same bytes" });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: v1.version, unchanged: true, comment: "90 days for all" });
    const second = await apply({ document: document.replace("90", "60") });
    const v2 = second.json<{ version: number }>();

    const current = await http.inject({ method: "GET", url: "/api/v1/policy", headers: as(auditor) });
    expect(current.json()).toMatchObject({ version: v2.version, document: document.replace("90", "60") });
    const one = await http.inject({
      method: "GET",
      url: `/api/v1/policy/versions/${v1.version}`,
      headers: as(auditor),
    });
    expect(one.json()).toMatchObject({ version: v1.version, comment: "90 days for all", document });
    const diff = await http.inject({
      method: "GET",
      url: `/api/v1/policy/diff?from=${v1.version}&to=${v2.version}`,
      headers: as(auditor),
    });
    expect(diff.json<{ diff: string }>().diff).toContain("-    validityDays: 90\n+    validityDays: 60\n");
  });

  test("a document that does not check is 422 invalid-policy with every problem, and nothing changes", async () => {
    const before = (await http.inject({ method: "GET", url: "/api/v1/policy", headers: as(auditor) })).json();
    const r = await apply({
      document:
        "keyfleet: policy/v1\nissuance: [{rule: a, profile: nope}, {rule: b, when: 'resource.tenant == 1'}]",
    });
    expect(r.statusCode).toBe(422);
    expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const problem = r.json<{ type: string; detail: string; problems: string[] }>();
    expect(problem.type).toMatch(/invalid-policy$/);
    expect(problem.problems).toHaveLength(2);
    expect(
      (await http.inject({ method: "GET", url: "/api/v1/policy", headers: as(auditor) })).json(),
    ).toEqual(before);
  });

  test("an auditor reads the policy and may not change it; a missing version is 404", async () => {
    const r = await http.inject({
      method: "POST",
      url: "/api/v1/policy",
      payload: { document },
      headers: as(auditor),
    });
    expect(r.statusCode).toBe(403);
    const missing = await http.inject({
      method: "GET",
      url: "/api/v1/policy/versions/999",
      headers: as(auditor),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ detail: string }>().detail).toMatch(/^no policy version 999; the latest is \d+$/);
  });
});
