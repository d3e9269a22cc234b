/**
 * A verified JWT's claims as a principal: `sub` names it, the role claim gives its Keyfleet role
 * (required: a JWT gets no role by default), the scopes claim narrows it (absent: unscoped, as an
 * unscoped API token). Pure; the claims come from oidc.ts after the signature and the times hold.
 */
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import type { OidcSettings } from "./oidc.js";
import { shown } from "./oidc-refusals.js";
import type { OidcPrincipal } from "./principal.js";
import { parseRole, roles, type Role } from "./roles.js";
import { checkScopes, scopeKeys, type Scopes } from "./scopes.js";

/** OpenID Connect Core 1.0 §2: `sub` is at most 255 ASCII characters; we take printable ones. */
const subjectPattern = /^[\x21-\x7e]{1,255}$/;
/** As a token's scope value (scopes.ts parseScopes). */
const scopeValuePattern = /^[\x21-\x7e]{1,128}$/;
const maxScopeValues = 100;

export function oidcPrincipalOf(
  payload: Readonly<Record<string, unknown>>,
  settings: OidcSettings,
): OidcPrincipal {
  const { sub, exp } = payload;
  if (typeof sub !== "string" || !subjectPattern.test(sub)) {
    throw new KeyfleetError(
      "unauthorized",
      `the JWT's sub ${shown(sub)} is not 1 to 255 printable ASCII characters`,
    );
  }
  // jose checked that exp is a number in the future; a Date must be able to hold it too.
  const expiresAt = new Date((exp as number) * 1000);
  if (Number.isNaN(expiresAt.getTime())) {
    throw new KeyfleetError("unauthorized", `the JWT's exp ${shown(exp)} is past any date Keyfleet can hold`);
  }
  return {
    kind: "oidc",
    issuer: settings.issuer,
    subject: sub,
    role: roleOf(payload, settings.roleClaim),
    scopes: scopesOf(payload, settings.scopesClaim),
    expiresAt,
  };
}

function roleOf(payload: Readonly<Record<string, unknown>>, claim: string): Role {
  if (!Object.hasOwn(payload, claim)) {
    throw new KeyfleetError(
      "unauthorized",
      `the JWT has no role claim "${claim}"; a JWT needs one (${roles.join(", ")}), there is no default role`,
    );
  }
  const value = payload[claim];
  try {
    if (typeof value !== "string") throw new KeyfleetError("malformed-request", "not a string");
    return parseRole(value);
  } catch (e) {
    if (!isKeyfleetError(e, "malformed-request")) throw e;
    throw new KeyfleetError(
      "unauthorized",
      `the JWT's role claim "${claim}" (${shown(value)}) is not a Keyfleet role; use one of ${roles.join(", ")}`,
    );
  }
}

function scopesOf(payload: Readonly<Record<string, unknown>>, claim: string): Scopes {
  if (!Object.hasOwn(payload, claim)) return {};
  const value = payload[claim];
  const refuse = (why: string) =>
    new KeyfleetError(
      "unauthorized",
      `the JWT's scopes claim "${claim}" ${why}; it is an object such as {"tenant":["acme"],"region":["eu-1"]}`,
    );
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw refuse(`(${shown(value)}) is not an object`);
  }
  const scopes = value as Record<string, unknown>;
  try {
    checkScopes(scopes as Scopes);
  } catch (e) {
    if (!isKeyfleetError(e, "malformed-request")) throw e;
    throw refuse(`names keys other than ${scopeKeys.join(" and ")}`);
  }
  for (const [key, values] of Object.entries(scopes)) {
    // An empty list would restrict nothing: a scope that reads as narrow and is not.
    const fine =
      Array.isArray(values) &&
      values.length > 0 &&
      values.length <= maxScopeValues &&
      values.every((v) => typeof v === "string" && scopeValuePattern.test(v));
    if (!fine) {
      throw refuse(
        `gives ${key} ${shown(values)}, not a list of 1 to ${maxScopeValues} values of printable ASCII`,
      );
    }
  }
  return scopes as Scopes;
}
