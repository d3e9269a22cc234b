/** The manufacturer API, and IDevID registration over HTTP: refusals are problem+json and audit leaves. */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { toPem } from "../src/pki/index.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";
import { testManufacturer } from "./support/idevid.js";
import { lifecycleCounts } from "./support/registry.js";

const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

forEachDatabase("manufacturer API", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let caAdmin: string;
  let provisioner: string;
  const acme = testManufacturer("Acme");

  beforeAll(async () => {
    t = await testApp(kind);
    await ensureInitialized(t.app, { algorithm: "p256" });
    caAdmin = (await t.app.tokens.create({ role: "ca-admin" })).token;
    provisioner = (await t.app.tokens.create({ role: "provisioner" })).token;
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const register = (serialNumber: string, idevid: Uint8Array, manufacturer = "Acme") =>
    http.inject({
      method: "POST",
      url: "/api/v1/devices",
      headers: as(provisioner),
      payload: { serialNumber, manufacturer, idevid: toPem("CERTIFICATE", idevid) },
    });

  test("a ca-admin adds a manufacturer; a provisioner registers a device whose IDevID validates to it", async () => {
    const before = await lifecycleCounts(t.db.database);
    const unknown = await register("ACME-0", acme.idevid("ACME-0"));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: "unknown-manufacturer" });
    expect(await lifecycleCounts(t.db.database)).toEqual({ ...before, auditLeaves: before.auditLeaves + 1 });
    const [refused] = (await t.app.audit.entriesAbout("request:POST /api/v1/devices")).map((e) => e.entry);
    expect(refused).toMatchObject({ type: "request.refused", details: { code: "unknown-manufacturer" } });

    const denied = await http.inject({
      method: "POST",
      url: "/api/v1/manufacturers",
      headers: as(provisioner),
      payload: { name: "Acme", certificates: [b64(acme.ca.der)] },
    });
    expect(denied.statusCode).toBe(403);
    const added = await http.inject({
      method: "POST",
      url: "/api/v1/manufacturers",
      headers: as(caAdmin),
      payload: { name: "Acme", certificates: [b64(acme.ca.der)] },
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({
      name: "Acme",
      certificates: [{ subject: expect.stringContaining("Acme IDevID CA") }],
    });

    expect((await register("ACME-1", acme.idevid("ACME-1"))).statusCode).toBe(201);
    const other = testManufacturer("Globex");
    const untrusted = await register("ACME-2", other.idevid("ACME-2"));
    expect(untrusted.statusCode).toBe(422);
    expect(untrusted.json<{ type: string; detail: string }>().type).toMatch(/untrusted-idevid$/);
    const shown = await http.inject({
      method: "GET",
      url: "/api/v1/manufacturers/Acme",
      headers: as(provisioner),
    });
    expect(shown.json()).toMatchObject({ name: "Acme" });
  });
});
