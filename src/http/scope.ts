/**
 * Scoped tokens on the certificate read routes (the registry authorizes issuance). A scoped token
 * sees only certificates bound to devices inside its scope; to it, everything else does not exist
 * (404, the answer for a serial that is not there), so a scope does not leak what lies outside it.
 */
import type { Registry } from "../registry/index.js";
import { callerOf, isScoped, type Principal } from "../policy/index.js";

/**
 * Whether the principal may see what belongs to this device (null: an unbound certificate). A
 * device that does not exist is outside every scope; any other failure (the store) propagates.
 */
export async function deviceInScope(
  registry: Registry,
  principal: Principal,
  deviceId: string | null,
): Promise<boolean> {
  return registry.covers(callerOf(principal), "cert.read", deviceId);
}

/** The list filter that keeps a scoped principal inside its scope. */
export function scopeFilter(principal: Principal) {
  return isScoped(principal.scopes)
    ? { devicesWith: { tenant: principal.scopes.tenant ?? [], region: principal.scopes.region ?? [] } }
    : {};
}
