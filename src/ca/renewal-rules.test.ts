import { describe, expect, test } from "vitest";
import { fitToServe, renewalDue, serverNames, type Wanted } from "./renewal-rules.js";

const DAY = 86_400_000;
const notBefore = new Date("2026-03-01T00:00:00Z");
const served = {
  status: "good" as const,
  issuerId: "ca-issuing",
  sans: ["DNS:localhost", "IP:127.0.0.1", "IP:::1", "DNS:keyfleet.example.test"],
  notBefore,
  notAfter: new Date(notBefore.getTime() + 90 * DAY),
};
const wanted = (overrides: Partial<Wanted> = {}): Wanted => ({
  names: serverNames(["keyfleet.example.test"]).sans,
  issuerId: "ca-issuing",
  now: new Date(notBefore.getTime() + DAY),
  ...overrides,
});

describe("server certificate renewal rules", () => {
  test("renewal falls due with a third of the lifetime left: day 60 of 90", () => {
    expect(renewalDue(served).toISOString()).toBe("2026-04-30T00:00:00.000Z");
  });

  test("a good certificate of the current CA naming every host serves until two thirds of its lifetime", () => {
    expect(fitToServe(served, wanted())).toBe(true);
    expect(fitToServe(served, wanted({ now: new Date(notBefore.getTime() + 60 * DAY - 1000) }))).toBe(true);
    expect(fitToServe(served, wanted({ now: new Date(notBefore.getTime() + 60 * DAY) }))).toBe(false);
    expect(fitToServe(served, wanted({ now: new Date(notBefore.getTime() - 1000) }))).toBe(false); // not valid yet
  });

  test("is unfit once revoked or on hold, or when another CA issues now", () => {
    expect(fitToServe({ ...served, status: "revoked" }, wanted())).toBe(false);
    expect(fitToServe({ ...served, status: "hold" }, wanted())).toBe(false);
    expect(fitToServe(served, wanted({ issuerId: "ca-next" }))).toBe(false);
    expect(fitToServe(served, wanted({ issuerId: undefined }))).toBe(false);
  });

  test("must cover every host asked for; DNS names compare without case, IP addresses as octets", () => {
    expect(fitToServe(served, wanted({ names: serverNames(["other.example.test"]).sans }))).toBe(false);
    expect(fitToServe(served, wanted({ names: serverNames(["10.1.2.3"]).sans }))).toBe(false);
    expect(fitToServe(served, wanted({ names: serverNames(["KeyFleet.Example.TEST", "[::1]"]).sans }))).toBe(
      true,
    );
    const longForm = { ...served, sans: ["DNS:LOCALHOST", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"] };
    expect(fitToServe(longForm, wanted({ names: serverNames([]).sans }))).toBe(true);
    expect(fitToServe({ ...served, sans: served.sans.slice(1) }, wanted())).toBe(false); // no localhost
  });

  test("names localhost and both loopbacks always, takes IPv6 hosts out of their brackets", () => {
    expect(serverNames(["[::1]", "10.1.2.3", "api.example.test", "localhost"])).toEqual({
      subject: [{ type: "CN", value: "api.example.test" }],
      sans: [
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
        { type: "ip", value: "10.1.2.3" },
        { type: "dns", value: "api.example.test" },
      ],
    });
  });
});
