import { describe, expect, test } from "vitest";
import { backoffDelay, retryAfterMs } from "./retry.js";

describe("back-off", () => {
  test("doubles from the base, each wait within [step/2, step]", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });

  test("stops growing at the cap, and a huge attempt count does not overflow", () => {
    expect(backoffDelay(40, () => 1, { capMs: 60_000 })).toBe(60_000);
    expect(backoffDelay(10_000, () => 0.5)).toBe(45 * 60_000);
  });

  test("spreads a fleet: different random draws, different waits", () => {
    const waits = new Set(Array.from({ length: 100 }, () => backoffDelay(5, Math.random)));
    expect(waits.size).toBeGreaterThan(90);
  });
});

describe("Retry-After (RFC 9110 §10.2.3)", () => {
  const now = new Date("2026-12-02T12:00:00Z");
  test("reads delay-seconds and an HTTP-date", () => {
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Wed, 02 Dec 2026 12:01:30 GMT", now)).toBe(90_000);
    expect(retryAfterMs("Wed, 02 Dec 2026 11:00:00 GMT", now)).toBe(0);
  });
  test("is undefined when absent or unreadable", () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs("-5", now)).toBeUndefined();
  });
});
