/**
 * jose's throws as Keyfleet refusals: each names the check that failed (expired at, issuer,
 * audience, algorithm, kid, signature) in one line, and none repeats the token.
 */
import { decodeProtectedHeader, errors } from "jose";
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import type { OidcSettings } from "./oidc.js";

export function fetchFailure(e: unknown, timeoutMs: number): string {
  if (e instanceof errors.JWKSTimeout) return `no answer within ${timeoutMs / 1000} s`;
  const cause = (e as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code; // fetch's TypeError: ECONNREFUSED, ENOTFOUND…
  return e instanceof Error ? e.message : String(e);
}

/** A NumericDate as ISO 8601; as a number when no Date can hold it (1e300 is finite). */
const iso = (seconds: unknown): string => {
  const date = new Date(typeof seconds === "number" ? seconds * 1000 : Number.NaN);
  return Number.isNaN(date.getTime()) ? shown(seconds) : date.toISOString();
};
/** A claim or header value from the token, for a message: JSON, cut short (never the token). */
export const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};

/** jose's throw, as the refusal that names the check that failed. */
export function refusal(
  e: unknown,
  jwt: string,
  settings: OidcSettings,
  algorithms: readonly string[],
): KeyfleetError {
  if (isKeyfleetError(e)) return e;
  const header = safeHeader(jwt);
  const unauthorized = (message: string) => new KeyfleetError("unauthorized", message, { cause: e });
  if (e instanceof errors.JWTExpired) {
    return unauthorized(`the JWT expired at ${iso(e.payload.exp)}`);
  }
  if (e instanceof errors.JWTClaimValidationFailed) return unauthorized(claimRefusal(e, settings));
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return unauthorized(
      `the JWT's algorithm ${shown(header?.alg)} is not allowed; Keyfleet accepts ${algorithms.join(", ")}`,
    );
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return unauthorized(
      header?.kid === undefined
        ? `no key in the JWKS fits the JWT (it names no kid; algorithm ${shown(header?.alg)})`
        : `no key in the JWKS has kid ${shown(header.kid)} (algorithm ${shown(header.alg)})`,
    );
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized(
      `the JWT's signature does not verify with ${header?.kid === undefined ? "any key of the JWKS" : `the JWKS key ${shown(header.kid)}`}`,
    );
  }
  if (e instanceof errors.JOSEError) {
    // JWSInvalid, JWTInvalid, JOSENotSupported…: jose's messages are fixed text, never the token.
    return unauthorized(`the bearer token is not a JWT Keyfleet accepts: ${e.message}`);
  }
  return new KeyfleetError("internal", "the JWT could not be verified", { cause: e });
}

/** jose checks claims only once the signature holds, so the values named here were signed. */
function claimRefusal(
  e: InstanceType<typeof errors.JWTClaimValidationFailed>,
  settings: OidcSettings,
): string {
  const value = e.payload[e.claim];
  if (e.reason === "missing")
    return `the JWT has no "${e.claim}" claim; Keyfleet requires iss, aud, sub and exp`;
  switch (e.claim) {
    case "iss":
      return `the JWT's issuer ${shown(value)} is not ${shown(settings.issuer)}`;
    case "aud":
      return `the JWT's audience ${shown(value)} does not include ${shown(settings.audience)}`;
    case "nbf":
      if (typeof value === "number") return `the JWT is not valid before ${iso(value)}`;
  }
  return `the JWT's "${e.claim}" claim is not valid: ${e.message}`;
}

function safeHeader(jwt: string): { alg?: unknown; kid?: unknown } | undefined {
  try {
    return decodeProtectedHeader(jwt);
  } catch {
    return undefined; // the header is only for the message; jose's own error says what is wrong
  }
}
