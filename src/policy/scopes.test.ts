import { describe, expect, test } from "vitest";
import { describeScopes, parseScopes, scopeCovers } from "./scopes.js";

describe("token scopes", () => {
  const acme = { tenant: "acme", region: "eu-1" };
  const other = { tenant: "globex", region: "eu-1" };

  test("an unscoped token covers every device and unbound certificates", () => {
    expect(scopeCovers({}, acme)).toBe(true);
    expect(scopeCovers({}, undefined)).toBe(true);
  });

  test("a scope covers only devices it names; values of one key are alternatives, keys must all match", () => {
    const scopes = parseScopes(["tenant=acme", "tenant=initech", "region=eu-1"]);
    expect(scopeCovers(scopes, acme)).toBe(true);
    expect(scopeCovers(scopes, { tenant: "initech", region: "eu-1" })).toBe(true);
    expect(scopeCovers(scopes, other)).toBe(false);
    expect(scopeCovers(scopes, { tenant: "acme", region: "us-1" })).toBe(false);
    expect(scopeCovers(scopes, { tenant: "acme", region: null })).toBe(false);
    expect(scopeCovers(scopes, undefined)).toBe(false); // a scoped token has no say over unbound certificates
    expect(describeScopes(scopes)).toBe("tenant=acme|initech, region=eu-1");
  });

  test("scopes on keys that would restrict nothing, or malformed pairs, are refused", () => {
    expect(() => parseScopes(["group=meters"])).toThrow(/scoped by tenant or region, not "group"/);
    for (const bad of ["tenant", "tenant=", "=acme", "tenant=a b", "Tenant=acme"]) {
      expect(() => parseScopes([bad])).toThrow(/KEY=VALUE/);
    }
  });
});
