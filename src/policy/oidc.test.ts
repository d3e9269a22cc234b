import {
  SignJWT,
  UnsecuredJWT,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { fixedClock } from "../domain/index.js";
import { bearerAuthenticator } from "./bearer.js";
import { looksLikeJwt, oidcClockToleranceSeconds, oidcVerifier, type OidcSettings } from "./oidc.js";
import { actorOf } from "./principal.js";

const settings: OidcSettings = {
  issuer: "https://idp.example.com/realms/ops",
  audience: "keyfleet",
  jwksUrl: "https://idp.example.com/realms/ops/certs",
  roleClaim: "keyfleet_role",
  scopesClaim: "keyfleet_scopes",
  groupsClaim: "groups",
};
const now = Date.parse("2026-06-01T12:00:00Z") / 1000;

let es256: { privateKey: CryptoKey; publicJwk: JWK };
let ed25519: { privateKey: CryptoKey; publicJwk: JWK };
let stranger: CryptoKey;

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

beforeAll(async () => {
  es256 = await keyPair("ES256", "es-1");
  ed25519 = await keyPair("EdDSA", "ed-1");
  stranger = (await generateKeyPair("ES256")).privateKey;
});

const verifier = () =>
  oidcVerifier(settings, {
    clock: fixedClock(new Date(now * 1000).toISOString()),
    keys: createLocalJWKSet({ keys: [es256.publicJwk, ed25519.publicJwk] }),
  });

const good: JWTPayload = {
  iss: settings.issuer,
  aud: settings.audience,
  sub: "alice",
  exp: now + 300,
  iat: now,
  keyfleet_role: "operator",
  keyfleet_scopes: { tenant: ["acme"] },
};

function sign(
  claims: JWTPayload,
  options: { key?: CryptoKey; alg?: string; kid?: string | null } = {},
): Promise<string> {
  const kid = options.kid === undefined ? "es-1" : options.kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "ES256", ...(kid === null ? {} : { kid }) })
    .sign(options.key ?? es256.privateKey);
}

const refused = async (jwt: string, detail: RegExp | string) => {
  const error = await verifier()
    .verify(jwt)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ code: "unauthorized", message: expect.stringMatching(detail) });
  expect((error as Error).message).not.toContain(jwt);
};

describe("OIDC verifier", () => {
  test("a good JWT is a principal with its role and scopes, named by issuer and subject", async () => {
    const principal = await verifier().verify(await sign(good));
    expect(principal).toEqual({
      kind: "oidc",
      issuer: settings.issuer,
      subject: "alice",
      role: "operator",
      scopes: { tenant: ["acme"] },
      expiresAt: new Date((now + 300) * 1000),
    });
    expect(actorOf(principal)).toBe("oidc:https://idp.example.com/realms/ops#alice");
  });

  test("an EdDSA JWT verifies; without a scopes claim it is unscoped; aud may be a list", async () => {
    const jwt = await sign(
      { ...good, aud: ["other", "keyfleet"], keyfleet_scopes: undefined },
      { key: ed25519.privateKey, alg: "EdDSA", kid: "ed-1" },
    );
    expect(await verifier().verify(jwt)).toMatchObject({ role: "operator", scopes: {} });
  });

  test("a JWT without a kid verifies against the one key that fits it", async () => {
    expect(await verifier().verify(await sign(good, { kid: null }))).toMatchObject({ subject: "alice" });
  });

  test(`the clock tolerance is ${oidcClockToleranceSeconds} s, each way`, async () => {
    const t = oidcClockToleranceSeconds;
    await expect(verifier().verify(await sign({ ...good, exp: now - t + 1 }))).resolves.toBeDefined();
    await expect(verifier().verify(await sign({ ...good, nbf: now + t }))).resolves.toBeDefined();
    await refused(await sign({ ...good, exp: now - t }), /^the JWT expired at 2026-06-01T11:59:30\.000Z$/);
    await refused(
      await sign({ ...good, nbf: now + t + 1 }),
      /^the JWT is not valid before 2026-06-01T12:00:31/,
    );
  });

  test.each([
    ["valid only from a time no Date holds", { nbf: 1e300 }, /^the JWT is not valid before 1e\+300$/],
    ["expiring past any date", { exp: 1e300 }, /^the JWT's exp 1e\+300 is past any date/],
    [
      "from another issuer",
      { iss: "https://evil.example" },
      /^the JWT's issuer "https:\/\/evil.example" is not "https:\/\/idp/,
    ],
    [
      "for another audience",
      { aud: "someone-else" },
      /^the JWT's audience "someone-else" does not include "keyfleet"$/,
    ],
    ["without exp", { exp: undefined }, /^the JWT has no "exp" claim/],
    ["without sub", { sub: undefined }, /^the JWT has no "sub" claim/],
    ["without iss", { iss: undefined }, /^the JWT has no "iss" claim/],
    ["with a sub of control characters", { sub: "a\nb" }, /^the JWT's sub "a\\nb" is not/],
    [
      "without a role claim",
      { keyfleet_role: undefined },
      /^the JWT has no role claim "keyfleet_role"; .*no default role$/,
    ],
    [
      "with an unknown role",
      { keyfleet_role: "root" },
      /^the JWT's role claim "keyfleet_role" \("root"\) is not a Keyfleet role/,
    ],
    ["with a role that is not a string", { keyfleet_role: ["admin"] }, /is not a Keyfleet role/],
    [
      "with scopes that are not an object",
      { keyfleet_scopes: "tenant=acme" },
      /scopes claim "keyfleet_scopes" \("tenant=acme"\) is not an object/,
    ],
    [
      "with scopes on an unknown key",
      { keyfleet_scopes: { group: ["a"] } },
      /names keys other than tenant and region/,
    ],
    [
      "with an empty scope (which would restrict nothing)",
      { keyfleet_scopes: { tenant: [] } },
      /gives tenant \[\]/,
    ],
    ["with a scope value that is not a string", { keyfleet_scopes: { tenant: [1] } }, /gives tenant \[1\]/],
    ["with a scope that is a string", { keyfleet_scopes: { tenant: "acme" } }, /gives tenant "acme"/],
  ])("refuses a JWT %s", async (_name, change, detail) => {
    await refused(await sign({ ...good, ...change }), detail);
  });

  test("refuses a JWT signed by a key not in the JWKS, under a known or an unknown kid", async () => {
    await refused(
      await sign(good, { key: stranger }),
      /^the JWT's signature does not verify with the JWKS key "es-1"$/,
    );
    await refused(
      await sign(good, { key: stranger, kid: "elsewhere" }),
      /^no key in the JWKS has kid "elsewhere" \(algorithm "ES256"\)$/,
    );
  });

  test("refuses alg none and HS256 keyed with the public key, before looking for a key", async () => {
    const unsigned = new UnsecuredJWT(good).encode();
    expect(looksLikeJwt(unsigned)).toBe(true);
    await refused(
      unsigned,
      /^the JWT's algorithm "none" is not allowed; Keyfleet accepts ES256, ES384, EdDSA, RS256, PS256$/,
    );

    // The confusion attack: the public JWK (which anyone has) used as an HMAC secret.
    const header = Buffer.from(JSON.stringify({ alg: "HS256", kid: "es-1" })).toString("base64url");
    const body = Buffer.from(JSON.stringify(good)).toString("base64url");
    for (const secret of [JSON.stringify(es256.publicJwk), es256.publicJwk.x!]) {
      const mac = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
      await refused(`${header}.${body}.${mac}`, /^the JWT's algorithm "HS256" is not allowed/);
    }
  });

  test("refuses what is no JWT at all, without repeating it", async () => {
    await refused("eyJub3QiOiJqc29uIn0.e30.c2ln", /^the bearer token is not a JWT Keyfleet accepts/);
    await refused("bm90IGpzb24.bm90IGpzb24.c2ln", /^the bearer token is not a JWT Keyfleet accepts/);
  });

  test("a key set that cannot be fetched is unavailable, not the caller's fault", async () => {
    const down = oidcVerifier(settings, {
      clock: fixedClock(new Date(now * 1000).toISOString()),
      keys: () => Promise.reject(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } })),
    });
    await expect(down.verify(await sign(good))).rejects.toMatchObject({
      code: "unavailable",
      message: `the identity provider's key set (JWKS) at ${settings.jwksUrl} could not be fetched (ECONNREFUSED); retry later`,
    });
  });
});

describe("bearer routing", () => {
  const tokens = {
    authenticate: (bearer: string) =>
      Promise.resolve({ kind: "token" as const, tokenId: bearer, role: "viewer" as const, scopes: {} }),
  };

  test("kf_ goes to the token service, a JWT to the verifier, nothing else to the verifier", async () => {
    const bearer = bearerAuthenticator(tokens, verifier());
    await expect(bearer.authenticate("kf_abc")).resolves.toMatchObject({ kind: "token" });
    await expect(bearer.authenticate(await sign(good))).resolves.toMatchObject({ kind: "oidc" });
    await expect(bearer.authenticate("a.b")).resolves.toMatchObject({ kind: "token" });
  });

  test("without OIDC configured a JWT is refused, as any bearer that is not a Keyfleet token", async () => {
    const bearer = bearerAuthenticator(tokens, undefined);
    await expect(bearer.authenticate(await sign(good))).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(/^the bearer token is not a Keyfleet token, .*OIDC is not configured/),
    });
  });
});
