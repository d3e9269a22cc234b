/** Scoped tokens: a token scoped to a tenant issues and sees only certificates of that tenant's devices. */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { systemCaller } from "../src/policy/index.js";

forEachDatabase("scoped tokens", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let dir: Workdir;
  let admin: string;
  let acmeOperator: string;
  let acmeDevice: string;
  let globexDevice: string;
  let csr: string;

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    acmeOperator = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["acme"] } })).token;
    acmeDevice = (await t.app.devices.register({ serialNumber: "ACME-1", tenant: "acme" }, systemCaller)).id;
    globexDevice = (
      await t.app.devices.register({ serialNumber: "GLOBEX-1", tenant: "globex" }, systemCaller)
    ).id;
    http = await buildHttpApp(t.app, "full");
    dir = await workdir();
    csr = await opensslCsr(dir, "p256", "/CN=scoped");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const issue = (token: string, body: object) =>
    http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      payload: { csr, ...body },
      headers: as(token),
    });
  const serials = async (token: string) =>
    (await http.inject({ method: "GET", url: "/api/v1/certificates?limit=500", headers: as(token) }))
      .json()
      .items.map((c: { serial: string }) => c.serial);

  test("a tenant-scoped token issues for its tenant's devices only; outside, the device does not exist for it", async () => {
    const mine = await issue(acmeOperator, { deviceId: acmeDevice });
    expect(mine.statusCode).toBe(201);
    expect(mine.json().deviceId).toBe(acmeDevice);

    const theirs = await issue(acmeOperator, { deviceId: globexDevice });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ code: "not-found", detail: `no device "${globexDevice}"` });

    const unbound = await issue(acmeOperator, {});
    expect(unbound.statusCode).toBe(403);
    expect(unbound.json().detail).toMatch(/scoped \(tenant=acme\).*send deviceId/);
  });

  test("a scoped token lists and reads only certificates inside its scope", async () => {
    const theirs = (await issue(admin, { deviceId: globexDevice })).json().serial as string;
    const unbound = (await issue(admin, {})).json().serial as string;
    const mine = (await issue(admin, { deviceId: acmeDevice })).json().serial as string;

    const visible = await serials(acmeOperator);
    expect(visible).toContain(mine);
    expect(visible).not.toContain(theirs);
    expect(visible).not.toContain(unbound);
    expect(await serials(admin)).toEqual(expect.arrayContaining([mine, theirs, unbound]));

    const read = (serial: string) =>
      http.inject({ method: "GET", url: `/api/v1/certificates/${serial}`, headers: as(acmeOperator) });
    expect((await read(mine)).statusCode).toBe(200);
    for (const serial of [theirs, unbound]) {
      const res = await read(serial);
      expect(res.statusCode).toBe(404);
      expect(res.json().detail).toBe(`no certificate with serial ${serial}`);
    }
  });

  test("request ids live in the caller's scope: another tenant's id neither conflicts nor names anything", async () => {
    const globexOperator = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["globex"] } }))
      .token;
    const acme = await issue(acmeOperator, { deviceId: acmeDevice, requestId: "shared-id-1" });
    expect(acme.statusCode).toBe(201);

    // The same id from another tenant is another request: its own certificate, nothing of acme's in sight.
    const globex = await issue(globexOperator, { deviceId: globexDevice, requestId: "shared-id-1" });
    expect(globex.statusCode).toBe(201);
    expect(globex.json().serial).not.toBe(acme.json().serial);
    expect(globex.json().deviceId).toBe(globexDevice);
    expect(JSON.stringify(globex.json())).not.toContain(acmeDevice);

    // Within a scope, ids still mean one request: a retry gets its certificate, a different one a 409
    // that names only what the caller can see.
    const retry = await issue(globexOperator, { deviceId: globexDevice, requestId: "shared-id-1" });
    expect(retry.json().serial).toBe(globex.json().serial);
    const other = await issue(globexOperator, {
      deviceId: globexDevice,
      requestId: "shared-id-1",
      validitySeconds: 3600,
    });
    expect(other.statusCode).toBe(409);
    expect(other.json().detail).not.toContain(acmeDevice);
    expect(other.json().detail).not.toContain(acme.json().serial);

    // An unscoped admin's ids are its own namespace too.
    const mine = await issue(admin, { deviceId: globexDevice, requestId: "shared-id-1" });
    expect(mine.statusCode).toBe(201);
    expect(new Set([acme, globex, mine].map((r) => r.json().serial)).size).toBe(3);
  });
});
