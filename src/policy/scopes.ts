/**
 * Token scopes: a scoped token acts only on devices whose attributes it names (`tenant=acme`,
 * `region=eu-1`; several values of one key are alternatives, several keys must all match). An
 * unscoped token acts on everything its role allows. Scopes narrow a role; they never widen it.
 */
import { KeyfleetError, quoted } from "../domain/index.js";

export type Scopes = Readonly<Record<string, readonly string[]>>;

/** The device attributes a scope can name. A scope on anything else would restrict nothing. */
export const scopeKeys = ["tenant", "region"] as const;
export type ScopeKey = (typeof scopeKeys)[number];

/** A scope value: 1–128 printable ASCII characters, as a tenant or region name is. */
export const scopeValuePattern = /^[\x21-\x7e]{1,128}$/;
/** The values one scope key may list (a token, a JWT's claim, a policy binding). */
export const maxScopeValues = 100;

export interface ScopedAttributes {
  readonly tenant: string;
  readonly region: string | null;
}

/** `KEY=VALUE` pairs into scopes; a key may repeat (`--scope tenant=a --scope tenant=b`). */
export function parseScopes(pairs: readonly string[]): Scopes {
  const scopes: Record<string, string[]> = {};
  for (const pair of pairs) {
    const m = new RegExp(`^([a-z]+)=(${scopeValuePattern.source.slice(1, -1)})$`).exec(pair);
    if (!m) {
      throw new KeyfleetError(
        "malformed-request",
        `a scope is KEY=VALUE (${scopeKeys.join(" or ")}), got ${quoted(pair)}`,
      );
    }
    (scopes[m[1]!] ??= []).push(m[2]!);
  }
  checkScopes(scopes);
  return scopes;
}

/** Refuses scopes on keys that would restrict nothing (for scopes not made by `parseScopes`). */
export function checkScopes(scopes: Scopes): void {
  for (const key of Object.keys(scopes)) {
    if (!(scopeKeys as readonly string[]).includes(key)) {
      throw new KeyfleetError(
        "malformed-request",
        `tokens can be scoped by ${scopeKeys.join(" or ")}, not "${key}"`,
      );
    }
  }
}

export function isScoped(scopes: Scopes): boolean {
  return scopeKeys.some((k) => (scopes[k]?.length ?? 0) > 0);
}

/** Does the scope cover a device with these attributes? `undefined`: no device (an unbound certificate). */
export function scopeCovers(scopes: Scopes, device: ScopedAttributes | undefined): boolean {
  if (!isScoped(scopes)) return true;
  if (!device) return false;
  return scopeKeys.every((k) => {
    const allowed = scopes[k];
    return !allowed?.length || (device[k] !== null && allowed.includes(device[k]));
  });
}

/** "tenant=acme, region=eu-1|eu-2", for messages. */
export function describeScopes(scopes: Scopes): string {
  return scopeKeys
    .filter((k) => scopes[k]?.length)
    .map((k) => `${k}=${scopes[k]!.join("|")}`)
    .join(", ");
}

/**
 * The namespace a principal's request ids live in: its scope, canonical (keys in a fixed order,
 * values sorted), "" when unscoped. Principals with the same scope see the same things, so they
 * may share ids; a principal with another scope never meets them (issue 13).
 */
export function requestScopeOf(scopes: Scopes): string {
  if (!isScoped(scopes)) return "";
  return JSON.stringify(
    scopeKeys.filter((k) => scopes[k]?.length).map((k) => [k, [...new Set(scopes[k])].sort()]),
  );
}
