/**
 * PROBE (attack re-run of issue 13, class 2), was a defect (fixed: the cursor is the last serial of the page, src/store/certificate-repository.ts): the list cursor leaks other tenants' activity
 * to a scoped token. GET /api/v1/certificates pages by `next`, which is the global row sequence
 * (certificates.seq). A token scoped to tenant=acme sees the cursor of its own certificates, and
 * the gap between two of them is exactly how many certificates every other tenant got in between.
 * Reproduced against `keyfleet serve`: acme issues 2, globex issues 5, acme issues 2; acme's
 * `GET /api/v1/certificates?limit=1` gives next=113 before and next=120 after: 120 − 113 − 2 = 5.
 * Outside its scope nothing exists for a token (src/http/scope.ts); a cursor should be opaque or
 * per-scope.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildHttpApp } from "../src/http/index.js";
import type { Device } from "../src/registry/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { systemCaller } from "../src/policy/index.js";

let t: TestApp;
let http: FastifyInstance;
let dir: Workdir;
let acme: Device;
let globex: Device;
let acmeToken: string;
let globexToken: string;

beforeAll(async () => {
  t = await testApp("pglite");
  dir = await workdir();
  await t.app.authority.init({ algorithm: "p256" });
  acme = await t.app.devices.register({ serialNumber: "ACME-0001", tenant: "acme" }, systemCaller);
  globex = await t.app.devices.register({ serialNumber: "GLOBEX-0001", tenant: "globex" }, systemCaller);
  acmeToken = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["acme"] } })).token;
  globexToken = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["globex"] } })).token;
  http = await buildHttpApp(t.app, "full");
});
afterAll(async () => {
  await http?.close();
  await dir?.dispose();
  await t?.dispose();
});

test("a scoped token's list cursor does not count other tenants' certificates", async () => {
  const csr = await opensslCsr(dir, "p256", "/CN=meter");
  const issue = async (token: string, deviceId: string) => {
    const res = await http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      headers: { authorization: `Bearer ${token}` },
      payload: { csr, deviceId },
    });
    expect(res.statusCode).toBe(201);
  };
  const acmeCursor = async () => {
    const res = await http.inject({
      method: "GET",
      url: "/api/v1/certificates?limit=1",
      headers: { authorization: `Bearer ${acmeToken}` },
    });
    return res.json().next as string;
  };
  await issue(acmeToken, acme.id);
  await issue(acmeToken, acme.id);
  const first = await acmeCursor();
  const foreign = 5;
  for (let i = 0; i < foreign; i++) await issue(globexToken, globex.id);
  await issue(acmeToken, acme.id);
  await issue(acmeToken, acme.id);
  const second = await acmeCursor();
  // Today: Number(second) - Number(first) - 2 === 5, globex's issuance count.
  expect(Number(second) - Number(first) - 2).not.toBe(foreign);
});
