import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig } from "./config.js";

describe("OIDC configuration", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "keyfleet-config-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const env = {
    KEYFLEET_OIDC_ISSUER: "https://idp.example.com/realms/ops",
    KEYFLEET_OIDC_AUDIENCE: "keyfleet",
    KEYFLEET_OIDC_JWKS_URL: "https://idp.example.com/realms/ops/certs",
  };
  const load = (vars: Record<string, string | undefined>) => loadConfig({ dataDir }, vars);

  test("is off unless configured", () => {
    expect(load({}).oidc).toBeUndefined();
  });

  test("issuer, audience and JWKS URL from the environment; the claim names have defaults", () => {
    expect(load(env).oidc).toEqual({
      issuer: "https://idp.example.com/realms/ops",
      audience: "keyfleet",
      jwksUrl: "https://idp.example.com/realms/ops/certs",
      roleClaim: "keyfleet_role",
      scopesClaim: "keyfleet_scopes",
      groupsClaim: "groups",
    });
    expect(
      load({ ...env, KEYFLEET_OIDC_ROLE_CLAIM: "kf/role", KEYFLEET_OIDC_SCOPES_CLAIM: "kf/scopes" }).oidc,
    ).toMatchObject({ roleClaim: "kf/role", scopesClaim: "kf/scopes" });
  });

  test("a flag beats the environment; http is allowed on a loopback host", () => {
    const config = loadConfig({ dataDir, oidcJwksUrl: "http://127.0.0.1:9999/jwks" }, env);
    expect(config.oidc?.jwksUrl).toBe("http://127.0.0.1:9999/jwks");
  });

  test.each([
    [
      "an issuer without audience and JWKS URL",
      { KEYFLEET_OIDC_ISSUER: env.KEYFLEET_OIDC_ISSUER },
      /missing: KEYFLEET_OIDC_AUDIENCE, KEYFLEET_OIDC_JWKS_URL/,
    ],
    ["a claim name without an issuer", { KEYFLEET_OIDC_ROLE_CLAIM: "role" }, /missing: KEYFLEET_OIDC_ISSUER/],
    [
      "a JWKS URL over plain HTTP to another host",
      { ...env, KEYFLEET_OIDC_JWKS_URL: "http://idp.example.com/certs" },
      /KEYFLEET_OIDC_JWKS_URL must be an https URL/,
    ],
    ["a JWKS URL that is no URL", { ...env, KEYFLEET_OIDC_JWKS_URL: "certs" }, /must be a URL/],
    [
      "an issuer with a fragment",
      { ...env, KEYFLEET_OIDC_ISSUER: "https://idp.example.com/#x" },
      /no query or fragment/,
    ],
    ["one claim for role and scopes", { ...env, KEYFLEET_OIDC_SCOPES_CLAIM: "keyfleet_role" }, /must differ/],
    [
      "a claim name with a space",
      { ...env, KEYFLEET_OIDC_ROLE_CLAIM: "a role" },
      /claim name of 1 to 64 printable/,
    ],
  ])("refuses %s", (_name, vars, message) => {
    expect(() => load(vars)).toThrow(
      expect.objectContaining({ code: "invalid-configuration", message: expect.stringMatching(message) }),
    );
  });
});

describe("PKCS#11 configuration", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "keyfleet-config-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  const load = (vars: Record<string, string | undefined>) => loadConfig({ dataDir }, vars);
  const token = { KEYFLEET_PKCS11_MODULE: "/usr/lib/softhsm/libsofthsm2.so", KEYFLEET_PKCS11_TOKEN: "ca" };

  test("is off unless a module is configured; the PIN comes from the environment or a file, never both", () => {
    expect(load({}).pkcs11).toBeUndefined();
    expect(load({ ...token, KEYFLEET_PKCS11_PIN: "1234" }).pkcs11).toEqual({
      module: "/usr/lib/softhsm/libsofthsm2.so",
      token: "ca",
      pin: { value: "1234" },
    });
    expect(load({ ...token, KEYFLEET_PKCS11_PIN_FILE: "pin" }).pkcs11?.pin).toEqual({
      file: join(dataDir, "pin"),
    });
    expect(
      loadConfig({ dataDir, pkcs11Token: "flag" }, { ...token, KEYFLEET_PKCS11_PIN: "1" }).pkcs11?.token,
    ).toBe("flag");
  });

  test("refuses half a configuration and an impossible label, and never echoes the PIN", () => {
    for (const [vars, message] of [
      [{ KEYFLEET_PKCS11_PIN: "s3cret-pin" }, /missing: KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN$/],
      [token, /missing: KEYFLEET_PKCS11_PIN$/],
      [{ ...token, KEYFLEET_PKCS11_PIN: "s3cret-pin", KEYFLEET_PKCS11_PIN_FILE: "f" }, /both set/],
      [
        { ...token, KEYFLEET_PKCS11_TOKEN: "x".repeat(33), KEYFLEET_PKCS11_PIN: "s3cret-pin" },
        /at most 32 bytes/,
      ],
    ] as const) {
      let error: unknown;
      try {
        load(vars);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "invalid-configuration", message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain("s3cret-pin");
    }
  });
});
