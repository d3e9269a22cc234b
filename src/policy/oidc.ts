/**
 * OIDC bearer JWTs: a JWT from the one configured issuer, for the configured audience, signed by a
 * key of the issuer's JWKS with an asymmetric algorithm, unexpired, naming its subject and a
 * Keyfleet role (and optionally scopes) in claims. Anything less is `unauthorized`, with a message
 * that says which check failed and never repeats the token; a JWKS that cannot be fetched is
 * `unavailable` (503: the token may be good, so retry rather than get another one).
 */
import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { KeyfleetError, type Clock } from "../domain/index.js";
import type { ActivePolicy } from "./active-policy.js";
import { oidcPrincipalOf } from "./oidc-claims.js";
import { fetchFailure, refusal } from "./oidc-refusals.js";
import type { OidcPrincipal } from "./principal.js";

export interface OidcSettings {
  /** The `iss` every JWT must carry, compared as a string (OpenID Connect Core 1.0 §3.1.3.7). */
  readonly issuer: string;
  /** What the JWT's `aud` must contain. */
  readonly audience: string;
  /** Where the issuer publishes its signing keys (https, or http on a loopback host). */
  readonly jwksUrl: string;
  /** The claim holding the Keyfleet role (a string such as "operator"); `keyfleet_role` by default (config.ts). */
  readonly roleClaim: string;
  /** The claim holding the scopes (`{"tenant":["acme"],"region":["eu-1"]}`; absent: unscoped); `keyfleet_scopes` by default. */
  readonly scopesClaim: string;
  /**
   * The claim listing the subject's groups (an array of strings), which the policy's role bindings
   * match when the JWT names no role; `groups` by default.
   */
  readonly groupsClaim: string;
}

/**
 * Asymmetric only: a JWKS holds public keys, and an HS* JWT "signed" with one of them as the HMAC
 * secret is the classic confusion attack; `none` signs nothing (RFC 8725 §3.1, §3.2).
 */
export const oidcAlgorithms = ["ES256", "ES384", "EdDSA", "RS256", "PS256"] as const;

/** How far the issuer's clock and ours may disagree, for `exp`, `nbf` and `iat`, in seconds. */
export const oidcClockToleranceSeconds = 30;

/** How long a JWKS fetch may take before the request is answered `unavailable`. */
export const jwksTimeoutMs = 5_000;

export interface OidcVerifier {
  readonly settings: OidcSettings;
  /** The principal the JWT names; refused (`unauthorized`, `unavailable`) otherwise. */
  verify(jwt: string): Promise<OidcPrincipal>;
}

/** Three base64url parts (the last empty for an unsigned JWT, which is refused as one). */
export function looksLikeJwt(bearer: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer);
}

/**
 * `keys` is the issuer's JWKS; by default fetched from `settings.jwksUrl` and cached by jose
 * (ten minutes; a `kid` it does not know fetches again, at most every 30 s).
 */
export function oidcVerifier(
  settings: OidcSettings,
  deps: {
    readonly clock: Clock;
    readonly keys?: JWTVerifyGetKey;
    /** The policy in force, whose role bindings give a role to a JWT that names none. */
    readonly policy?: () => Promise<ActivePolicy>;
  },
): OidcVerifier {
  const remote =
    deps.keys ?? createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: jwksTimeoutMs });
  // A key set that cannot be had is the server's problem, not the caller's: told apart here, where
  // jose's errors still say which step failed. No matching key is the caller's (a key not listed).
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
      if (e instanceof errors.JOSENotSupported) throw e;
      throw new KeyfleetError(
        "unavailable",
        `the identity provider's key set (JWKS) at ${settings.jwksUrl} could not be fetched (${fetchFailure(e, jwksTimeoutMs)}); retry later`,
        { cause: e },
      );
    }
  };
  return {
    settings,
    async verify(jwt) {
      const options: JWTVerifyOptions = {
        algorithms: [...oidcAlgorithms],
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ["exp", "sub"],
        clockTolerance: oidcClockToleranceSeconds,
        currentDate: deps.clock.now(),
      };
      let payload: JWTPayload;
      try {
        payload = await verifyWithAnyKey(jwt, keys, options);
      } catch (e) {
        throw refusal(e, jwt, settings, oidcAlgorithms);
      }
      const bindings =
        deps.policy === undefined || Object.hasOwn(payload, settings.roleClaim)
          ? undefined
          : await deps.policy();
      return oidcPrincipalOf(payload, settings, bindings);
    },
  };
}

/** jose leaves a JWT without `kid` that several JWKS keys fit to the caller: try each of them. */
async function verifyWithAnyKey(
  jwt: string,
  keys: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(jwt, keys, options)).payload;
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
    for await (const key of e) {
      try {
        return (await jwtVerify(jwt, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
