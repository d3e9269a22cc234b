/**
 * A verified JWT's claims as a principal: `sub` names it, the role claim gives its Keyfleet role and
 * the scopes claim narrows it (absent: unscoped, as an unscoped API token). A JWT without a role
 * claim gets the role and scopes the policy in force binds to its subject or one of its groups, or
 * none at all: there is no default role. Pure; the claims come from oidc.ts after the signature and
 * the times hold.
 */
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import type { ActivePolicy } from "./active-policy.js";
import type { OidcSettings } from "./oidc.js";
import { shown } from "./oidc-refusals.js";
import type { OidcPrincipal } from "./principal.js";
import { parseRole, roles, type Role } from "./roles.js";
import { checkScopes, maxScopeValues, scopeKeys, scopeValuePattern, type Scopes } from "./scopes.js";

/** OpenID Connect Core 1.0 §2: `sub` is at most 255 ASCII characters; we take printable ones. */
const subjectPattern = /^[\x21-\x7e]{1,255}$/;

export function oidcPrincipalOf(
  payload: Readonly<Record<string, unknown>>,
  settings: OidcSettings,
  policy?: ActivePolicy,
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
  if (!Object.hasOwn(payload, settings.roleClaim) && policy) {
    const bound = policy.roleFor(sub, groupsOf(payload, settings.groupsClaim));
    if (!bound) {
      throw new KeyfleetError(
        "unauthorized",
        `the JWT has no role claim "${settings.roleClaim}", and policy version ${policy.version} binds no role to its subject ${shown(sub)} or its groups; there is no default role`,
      );
    }
    return {
      kind: "oidc",
      issuer: settings.issuer,
      subject: sub,
      role: bound.role,
      scopes: bound.scopes,
      expiresAt,
    };
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

/** The groups claim's strings (absent, or not a list of strings: none). */
function groupsOf(payload: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = payload[claim];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : [];
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
