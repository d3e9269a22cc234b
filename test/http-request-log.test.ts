/**
 * One log line per request, none for probes (request-log.ts): an API request leaves exactly one
 * line with its method, URL, status and time; health, readiness and metrics leave none; nor does
 * an OCSP request answered at its own quiet level.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";

let t: TestApp;
let full: FastifyInstance;
let publicHttp: FastifyInstance;

beforeAll(async () => {
  t = await testApp("pglite");
  await ensureInitialized(t.app, { algorithm: "p256" });
  full = await buildHttpApp(t.app, "full");
  publicHttp = await buildHttpApp(t.app, "public");
});
afterAll(async () => {
  await full?.close();
  await publicHttp?.close();
  await t?.dispose();
});

/** The log lines written while `work` runs, parsed. */
async function linesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const before = t.logs().length;
  await work();
  return t
    .logs()
    .slice(before)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("an API request is one line at info, with its method, URL, status and time, and a refusal's problem", async () => {
  const lines = await linesOf(() => full.inject({ method: "GET", url: "/api/v1/devices" }));
  const requests = lines.filter((l) => l.msg === "request");
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    level: 30,
    method: "GET",
    url: "/api/v1/devices",
    statusCode: 401,
    code: "unauthorized",
    detail: expect.stringContaining("Authorization: Bearer"),
  });
  expect(lines).toHaveLength(1);
  expect(requests[0]!.ms).toEqual(expect.any(Number));
  expect(lines.filter((l) => l.msg === "incoming request" || l.msg === "request completed")).toEqual([]);
});

test("probes and OCSP leave no request line", async () => {
  const lines = await linesOf(async () => {
    await full.inject({ method: "GET", url: "/healthz" });
    await full.inject({ method: "GET", url: "/readyz" });
    await full.inject({ method: "GET", url: "/metrics" });
    await publicHttp.inject({ method: "GET", url: "/healthz" });
    await publicHttp.inject({ method: "GET", url: "/ocsp/MAA" });
  });
  expect(lines.filter((l) => l.msg === "request")).toEqual([]);
});
