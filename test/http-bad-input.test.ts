/**
 * The admin API refuses what it does not understand, precisely and as problem+json, before it
 * changes anything; and it never echoes a secret or unbounded input back to the caller or the log.
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { openssl, opensslCsr, opensslCsrWithKey, workdir, type Workdir } from "./support/openssl.js";

let t: TestApp;
let http: FastifyInstance;
let dir: Workdir;
let admin: string;
let csr: string;
let otherCsr: string;

beforeAll(async () => {
  t = await testApp("pglite");
  const run = await ensureInitialized(t.app, { algorithm: "p256" });
  admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
  http = await buildHttpApp(t.app, "full");
  dir = await workdir();
  csr = await opensslCsr(dir, "p256", "/CN=strict.devices.test", [
    "-addext",
    "subjectAltName=DNS:strict.devices.test",
  ]);
  otherCsr = await opensslCsr(dir, "p256", "/CN=strict-device-2");
});
afterAll(async () => {
  await http?.close();
  await dir?.dispose();
  await t?.dispose();
});

async function refused(request: InjectOptions, status: number, code: string, detail?: RegExp) {
  const before = await t.certificateCount();
  const res = await http.inject(request);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const problem = res.json();
  expect(problem).toMatchObject({ status, code, type: `/problems/${code}` });
  if (detail) expect(problem.detail).toMatch(detail);
  expect(await t.certificateCount()).toBe(before);
  return res;
}

const post = (payload: object, headers: Record<string, string> = {}): InjectOptions => ({
  method: "POST",
  url: "/api/v1/certificates",
  payload,
  headers: { authorization: `Bearer ${admin}`, ...headers },
});

test("unknown fields and values of the wrong JSON type are refused, not dropped or converted", async () => {
  await refused(post({ csr, validitySecond: 60 }), 400, "malformed-request", /additional properties/);
  await refused(
    post({ csr, validitySeconds: true }),
    400,
    "malformed-request",
    /validitySeconds must be integer/,
  );
  await refused(post({ csr, validitySeconds: "120" }), 400, "malformed-request", /must be integer/);
  await refused(post({ csr: 5 }), 400, "malformed-request", /csr must be string/);
});

test("a secret pasted into a field is neither echoed in the answer nor logged", async () => {
  const key =
    // What a pasted key looks like (markers built here; the body is not key material).
    [`-----BEGIN EC ${"PRIVATE"} KEY-----`, "bm90IGEga2V5", `-----END EC ${"PRIVATE"} KEY-----`].join("\n");
  for (const body of [
    { csr, profile: key },
    { csr, deviceId: key },
    { csr, requestId: key },
  ]) {
    const res = await refused(post(body), 400, "malformed-request");
    expect(res.body).not.toContain("PRIVATE KEY");
  }
  const huge = "x".repeat(60_000);
  expect((await refused(post({ csr, deviceId: huge }), 400, "malformed-request")).body.length).toBeLessThan(
    1000,
  );
  expect(t.logs()).not.toContain("PRIVATE KEY");
  expect(t.logs()).not.toContain(huge);
});

test("authentication comes first: no token gets 401 with a WWW-Authenticate challenge, whatever the body", async () => {
  const res = await refused(
    { method: "POST", url: "/api/v1/certificates", payload: {} },
    401,
    "unauthorized",
  );
  expect(res.headers["www-authenticate"]).toBe('Bearer realm="keyfleet"');
  await refused({ method: "GET", url: "/api/v1/certificates?limit=abc" }, 401, "unauthorized");
});

test("paging input outside its range is a 400, not a database error", async () => {
  const get = (query: string): InjectOptions => ({
    method: "GET",
    url: `/api/v1/certificates?${query}`,
    headers: { authorization: `Bearer ${admin}` },
  });
  // The cursor is the serial that ended a page of this list: anything else is refused.
  await refused(
    get("after=99999999999999999999999"),
    400,
    "malformed-request",
    /`next` cursor of an earlier page/,
  );
  await refused(get("after=-1"), 400, "malformed-request", /after must match/);
  await refused(get("limit=0"), 400, "malformed-request", /limit must be >= 1/);
  await refused(get("limit=abc"), 400, "malformed-request");
  await refused(get("limt=5"), 400, "malformed-request", /additional properties/);
  expect((await http.inject(get("limit=2"))).statusCode).toBe(200);
});

test("errors before any route are problem details too", async () => {
  const auth = { authorization: `Bearer ${admin}` };
  await refused(
    { method: "GET", url: "/api/v1/certificates/%E0%A4%A", headers: auth },
    400,
    "malformed-request",
  );
  const long = await http.inject({
    method: "GET",
    url: `/api/v1/certificates/${"A".repeat(300)}`,
    headers: auth,
  });
  expect(long.statusCode).toBeGreaterThanOrEqual(400);
  expect(long.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(long.body).not.toContain("A".repeat(300));
  expect(long.json().detail).toBe("a path segment is too long");
  const plain = await refused(
    {
      method: "POST",
      url: "/api/v1/certificates",
      payload: "hello",
      headers: { ...auth, "content-type": "text/plain" },
    },
    415,
    "malformed-request",
  );
  expect(plain.json().detail).toBe("send the request body as application/json");
});

test("idempotency: one key per request, and a retry must ask for the same thing", async () => {
  await refused(post({ csr }, { "idempotency-key": "" }), 400, "malformed-request", /request id/);
  await refused(post({ csr }, { "idempotency-key": "x".repeat(201) }), 400, "malformed-request");
  await refused(
    post({ csr, requestId: "body-id" }, { "idempotency-key": "header-id" }),
    400,
    "malformed-request",
    /differ/,
  );
  const first = await http.inject(post({ csr, requestId: "strict-1" }));
  expect(first.statusCode).toBe(201);
  const again = await http.inject(post({ csr }, { "idempotency-key": "strict-1" }));
  expect(again.json().serial).toBe(first.json().serial); // a true retry gets the same certificate
  // The same CSR bytes again, with the validity it gets by default (client: 90 days) said out loud: the same request.
  const explicit = await http.inject(post({ csr, requestId: "strict-1", validitySeconds: 90 * 86_400 }));
  expect(explicit.json().serial).toBe(first.json().serial);
  const before = await t.certificateCount();
  await refused(
    post({ csr, requestId: "strict-1", profile: "tls-server" }),
    409,
    "conflict",
    /different request/,
  );
  await refused(post({ csr: otherCsr, requestId: "strict-1" }), 409, "conflict", /different request/);
  await refused(
    post({ csr, requestId: "strict-1", validitySeconds: 3600 }),
    409,
    "conflict",
    /different request/,
  );
  expect(await t.certificateCount()).toBe(before);
});

test("idempotency: the same key under the same request id, asking for another subject, SAN or validity, is a conflict", async () => {
  const { pem: csrPem, keyFile } = await opensslCsrWithKey(dir, "p256", "/CN=same-key", [
    "-addext",
    "subjectAltName=DNS:one.devices.test",
  ]);
  const sameKey = async (subject: string, san: string) =>
    (
      await openssl([
        "req",
        "-new",
        "-key",
        keyFile,
        "-subj",
        subject,
        "-addext",
        `subjectAltName=${san}`,
        "-outform",
        "PEM",
      ])
    ).stdout;
  const first = await http.inject(post({ csr: csrPem, requestId: "same-key-1" }));
  expect(first.statusCode).toBe(201);
  // The same request signed again (ECDSA signatures differ each time): still the same request.
  const resigned = await http.inject(
    post({ csr: await sameKey("/CN=same-key", "DNS:one.devices.test"), requestId: "same-key-1" }),
  );
  expect(resigned.statusCode).toBe(201);
  expect(resigned.json().serial).toBe(first.json().serial);
  const before = await t.certificateCount();
  for (const [subject, san] of [
    ["/CN=someone-else", "DNS:one.devices.test"],
    ["/CN=same-key", "DNS:two.devices.test"],
  ] as const) {
    await refused(
      post({ csr: await sameKey(subject, san), requestId: "same-key-1" }),
      409,
      "conflict",
      /different request/,
    );
  }
  await refused(post({ csr: csrPem, requestId: "same-key-1", validitySeconds: 600 }), 409, "conflict");
  expect(await t.certificateCount()).toBe(before);
});
