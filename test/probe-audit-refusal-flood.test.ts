/**
 * PROBE (attack re-run of issue 13, class 7), was a defect (fixed in src/http/refusal-limiter.ts): an anonymous caller grows the audit log
 * without bound. Every refused request (no token, an unknown token) is a permanent leaf
 * (request.refused) in its own transaction, behind the audit head's row lock that issuance also
 * takes. Measured against `keyfleet serve` on PostgreSQL (2 cores): one anonymous client with 12
 * connections sending unknown bearer tokens added 3,157 leaves in 10 s (≈ 316/s, ≈ 27 M/day,
 * append-only: the triggers forbid deleting them), and issuance fell from 194/s (p50 9 ms) to
 * 26/s (p50 70 ms) — more than under a 25× larger unauthenticated /healthz flood (43/s).
 * Refusals need a bound (aggregate per source and interval, sample, or rate-limit before the write).
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildHttpApp } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";

let t: TestApp;
let http: FastifyInstance;

beforeAll(async () => {
  t = await testApp("pglite");
  await t.app.authority.init({ algorithm: "p256" });
  http = await buildHttpApp(t.app, "full");
});
afterAll(async () => {
  await http?.close();
  await t?.dispose();
});

test("anonymous refused requests do not add an audit leaf each (the log's growth is bounded)", async () => {
  const before = (await t.app.audit.entries(0, 100_000)).length;
  const attempts = 300;
  for (let i = 0; i < attempts; i++) {
    const res = await http.inject({
      method: "GET",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer kf_${String(i).padStart(43, "A")}` },
    });
    expect(res.statusCode).toBe(401);
  }
  const added = (await t.app.audit.entries(0, 100_000)).length - before;
  // Today: added === 300, one permanent leaf per anonymous request.
  expect(added).toBeLessThan(attempts / 10);
});
