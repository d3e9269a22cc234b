/**
 * /metrics: issuance counted and timed by profile and outcome, plain keyfleet_ names, one registry
 * per server. Who may read it, and on which listener: test/http-exposure.test.ts.
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";

let t: TestApp;
let dir: Workdir;
let admin: string;
let csr: string;
const servers: FastifyInstance[] = [];

beforeAll(async () => {
  t = await testApp("pglite");
  const run = await ensureInitialized(t.app, { algorithm: "p256" });
  admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
  dir = await workdir();
  csr = await opensslCsr(dir, "p256", "/CN=metered.devices.test", [
    "-addext",
    "subjectAltName=DNS:metered.devices.test",
  ]);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await dir?.dispose();
  await t?.dispose();
});

/** A fresh server, so its counters start at zero. */
async function server() {
  const http = await buildHttpApp(t.app, "full");
  servers.push(http);
  return http;
}

const issue = (http: FastifyInstance, body: object, token: string | null = admin) =>
  http.inject({
    method: "POST",
    url: "/api/v1/certificates",
    payload: body,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
async function scrape(http: FastifyInstance): Promise<{ text: string; samples: Sample[] }> {
  const res = await http.inject({ url: "/metrics", headers: { authorization: `Bearer ${admin}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = res.body
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
      );
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
  return { text: res.body, samples };
}

const valueOf = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;

test("after an issued and a refused issuance, /metrics counts and times both under profile and outcome", async () => {
  const http = await server();
  expect((await issue(http, { csr, requestId: "metered-1" })).statusCode).toBe(201);
  expect((await issue(http, { csr: "garbage" })).json().code).toBe("malformed-request");
  const reused = await issue(http, { csr, requestId: "metered-1", profile: "tls-server" });
  expect(reused.json().code).toBe("conflict");
  expect((await issue(http, { csr }, null)).statusCode).toBe(401); // no issuance: refused at the door

  const { samples } = await scrape(http);
  const counted = samples.filter((s) => s.name === "keyfleet_certificates_issued_total");
  expect(counted.map((s) => ({ ...s.labels, value: s.value }))).toEqual(
    expect.arrayContaining([
      { profile: "client", outcome: "issued", value: 1 },
      { profile: "client", outcome: "malformed-request", value: 1 },
      { profile: "tls-server", outcome: "conflict", value: 1 },
    ]),
  );
  expect(counted).toHaveLength(3);
  for (const labels of [
    { profile: "client", outcome: "issued" },
    { profile: "client", outcome: "malformed-request" },
    { profile: "tls-server", outcome: "conflict" },
  ]) {
    expect(valueOf(samples, "keyfleet_issuance_duration_seconds_count", labels), JSON.stringify(labels)).toBe(
      1,
    );
    expect(valueOf(samples, "keyfleet_issuance_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(1);
    expect(valueOf(samples, "keyfleet_issuance_duration_seconds_sum", labels)).toBeGreaterThan(0);
  }
  expect(valueOf(samples, "keyfleet_http_problems_total", { code: "unauthorized", surface: "full" })).toBe(1);
});

test("every metric is a plain keyfleet_ name: the default process and Node.js metrics without a doubled prefix", async () => {
  const { text } = await scrape(await server());
  const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
  expect(names).toEqual(
    expect.arrayContaining([
      "keyfleet_process_cpu_seconds_total",
      "keyfleet_nodejs_heap_size_total_bytes",
      "keyfleet_http_request_duration_seconds",
      "keyfleet_certificates_issued_total",
      "keyfleet_issuance_duration_seconds",
    ]),
  );
  expect(names.filter((n) => !n.startsWith("keyfleet_"))).toEqual([]);
  expect(text).not.toContain("process_process_");
});

test("two servers in one process keep their own registries", async () => {
  const [one, two] = [await server(), await server()];
  expect((await issue(one, { csr })).statusCode).toBe(201);
  const count = async (http: FastifyInstance) =>
    valueOf((await scrape(http)).samples, "keyfleet_certificates_issued_total", {
      profile: "client",
      outcome: "issued",
    });
  expect(await count(one)).toBe(1);
  expect(await count(two)).toBeUndefined();
});
