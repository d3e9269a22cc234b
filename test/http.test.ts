import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { readFile } from "node:fs/promises";

forEachDatabase("admin API", (kind) => {
  let t: TestApp;
  let http: FastifyInstance;
  let publicHttp: FastifyInstance;
  let dir: Workdir;
  let admin: string;
  let auditor: string;
  let csr: string;

  beforeAll(async () => {
    t = await testApp(kind);
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    auditor = (await t.app.tokens.create({ role: "auditor" })).token;
    http = await buildHttpApp(t.app, "full");
    publicHttp = await buildHttpApp(t.app, "public");
    dir = await workdir();
    csr = await opensslCsr(dir, "p256", "/CN=http-device");
  });
  afterAll(async () => {
    await http?.close();
    await publicHttp?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const issue = (body: unknown, token: string | null = admin) =>
    http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      payload: body as object,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  test("healthz and readyz answer", async () => {
    expect((await http.inject("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await http.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", keyStore: "ok" } });
  });

  test("issues over the API with an admin token; the record is readable by serial", async () => {
    const res = await issue({ csr, requestId: "api-1" });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ serial: string; pem: string; profile: string }>();
    expect(body.pem).toContain("BEGIN CERTIFICATE");
    const read = await http.inject({
      url: `/api/v1/certificates/${body.serial}`,
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(read.json()).toMatchObject({ serial: body.serial, status: "good", profile: "client" });
    const list = await http.inject({
      url: "/api/v1/certificates?limit=1",
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(list.json<{ items: { serial: string }[] }>().items[0]!.serial).toBe(body.serial);
  });

  test.each([
    ["no token", null, 401, "unauthorized"],
    ["an unknown token", "kf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "unauthorized"],
  ])("refuses %s with problem+json and issues nothing", async (_name, token, status, code) => {
    const before = await t.certificateCount();
    const res = await issue({ csr }, token);
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json()).toMatchObject({ code, status, type: `/problems/${code}` });
    expect(await t.certificateCount()).toBe(before);
  });

  test("refuses the wrong role (auditor may not issue) and issues nothing", async () => {
    const before = await t.certificateCount();
    const res = await issue({ csr }, auditor);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: "forbidden", detail: 'role "auditor" may not cert.issue' });
    expect(await t.certificateCount()).toBe(before);
  });

  test.each([
    [
      "malformed PEM",
      { csr: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n" },
      "malformed-request",
    ],
    ["garbage", { csr: "hello" }, "malformed-request"],
    ["an unknown profile", { csr: "", profile: "x" }, "malformed-request"],
    ["an unknown field", { csr: "x", extra: 1 }, "malformed-request"],
  ])("refuses %s with a 400 problem and issues nothing", async (_name, body, code) => {
    const before = await t.certificateCount();
    const res = await issue(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code });
    expect(await t.certificateCount()).toBe(before);
  });

  test("refuses a CSR asking for CA:true", async () => {
    const caCsr = await opensslCsr(dir, "p256", "/CN=sneaky", [
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ]);
    const res = await issue({ csr: caCsr });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "forbidden-extension" });
  });

  test("serves each CA certificate at its caIssuers URL, on the public surface too", async () => {
    const [ca] = await t.app.authority.cas();
    expect((await publicHttp.inject(`/ca/${ca!.id}.cer`)).statusCode).toBe(404); // not published yet
    await t.app.crls.sync(); // what a running server does within seconds of a CA's making
    for (const server of [http, publicHttp]) {
      const res = await server.inject(`/ca/${ca!.id}.cer`);
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("application/pkix-cert");
      expect(Buffer.compare(res.rawPayload, Buffer.from(await t.app.authority.caCertificate(ca!.id)))).toBe(
        0,
      );
      const etag = res.headers.etag as string;
      const again = await server.inject({
        url: `/ca/${ca!.id}.cer`,
        headers: { "if-none-match": `W/${etag}` },
      });
      expect(again.statusCode).toBe(304);
      const pem = await server.inject(`/ca/${ca!.id}.pem`);
      expect(pem.body).toContain("-----BEGIN CERTIFICATE-----");
      expect(pem.headers.etag).not.toBe(etag);
    }
    const missing = await publicHttp.inject("/ca/ca-0000000000.cer");
    expect(missing.json()).toMatchObject({ status: 404, code: "not-found" });
    expect(missing.statusCode).toBe(404);
    expect(
      (await publicHttp.inject({ method: "POST", url: "/api/v1/certificates", payload: { csr } })).statusCode,
    ).toBe(404);
  });

  test("publishes an OpenAPI 3.1 document of the admin API", async () => {
    const doc = (await http.inject("/openapi.json")).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/certificates", "/api/v1/certificates/{serial}", "/api/v1/cas"]),
    );
  });

  test("exposes Prometheus metrics to a token that may read them", async () => {
    const res = await http.inject({ url: "/metrics", headers: { authorization: `Bearer ${auditor}` } });
    expect(res.body).toContain("keyfleet_http_request_duration_seconds");
  });

  test("never logs a bearer token", async () => {
    await issue({ csr: "garbage" });
    expect(t.logs()).not.toContain(admin);
    expect(t.logs()).not.toContain(admin.slice(3));
  });
});
