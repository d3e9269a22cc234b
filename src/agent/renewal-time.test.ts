import { describe, expect, test } from "vitest";
import { renewalTime } from "./renewal-time.js";

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
