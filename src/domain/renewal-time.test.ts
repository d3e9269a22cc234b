import { describe, expect, test } from "vitest";
import { renewalTime, rotationDueAt } from "./renewal-time.js";

const validity = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2026-01-31T00:00:00Z") };

describe("renewal time", () => {
  test("is two thirds into the lifetime by default", () => {
    expect(renewalTime(validity).toISOString()).toBe("2026-01-21T00:00:00.000Z");
  });

  test("follows a configured fraction", () => {
    expect(renewalTime(validity, 0.5).toISOString()).toBe("2026-01-16T00:00:00.000Z");
    expect(renewalTime({ notBefore: new Date(0), notAfter: new Date(3 * 3600_000) }, 0.9).getTime()).toBe(
      9720_000,
    );
  });

  test.each([0, 1, -0.5, 1.5, Number.NaN])("refuses the fraction %s", (fraction) => {
    expect(() => renewalTime(validity, fraction)).toThrow(
      expect.objectContaining({ code: "invalid-configuration" }),
    );
  });

  test("refuses a validity that ends before it starts", () => {
    expect(() => renewalTime({ notBefore: validity.notAfter, notAfter: validity.notBefore })).toThrow(
      expect.objectContaining({ code: "malformed-request" }),
    );
  });
});

describe("rotation cadence (the server's due time)", () => {
  const ninety = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2026-04-01T00:00:00Z") };
  test.each([
    // [what, validity, rotationDays, due]
    ["no cadence: two thirds of a 30-day life", validity, undefined, "2026-01-21T00:00:00.000Z"],
    ["no cadence: two thirds of a 90-day life", ninety, undefined, "2026-03-02T00:00:00.000Z"],
    ["a cadence of 20 days, before two thirds", validity, 20, "2026-01-21T00:00:00.000Z"],
    ["a cadence of 10 days", validity, 10, "2026-01-11T00:00:00.000Z"],
    ["a cadence past two thirds is kept", validity, 25, "2026-01-26T00:00:00.000Z"],
    ["a cadence a day short of expiry", validity, 29, "2026-01-30T00:00:00.000Z"],
    ["a cadence reaching expiry falls back to two thirds", validity, 30, "2026-01-21T00:00:00.000Z"],
    ["a cadence past expiry falls back to two thirds", validity, 3650, "2026-01-21T00:00:00.000Z"],
    ["a one-day cadence", ninety, 1, "2026-01-02T00:00:00.000Z"],
  ] as const)("%s", (_what, v, days, due) => {
    expect(rotationDueAt(v, days).toISOString()).toBe(due);
  });

  test("a lifetime of a few hours with no cadence: two thirds, to the millisecond", () => {
    const short = { notBefore: new Date(0), notAfter: new Date(3 * 3600_000 + 1) };
    expect(rotationDueAt(short, undefined).getTime()).toBe(Math.floor((3 * 3600_000 + 1) * (2 / 3)));
    expect(rotationDueAt(short, 1).getTime()).toBe(Math.floor((3 * 3600_000 + 1) * (2 / 3)));
  });

  test.each([0, -1, 1.5, Number.NaN])("refuses the cadence %s", (days) => {
    expect(() => rotationDueAt(validity, days)).toThrow(
      expect.objectContaining({ code: "invalid-configuration" }),
    );
  });
});
