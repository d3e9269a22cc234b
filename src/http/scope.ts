/**
 * Scoped tokens on the certificate routes. A scoped token sees and issues only certificates bound
 * to devices inside its scope; to it, everything else does not exist (404, the same answer as for
 * a device or serial that is not there), so a scope does not leak what lies outside it.
 */
import type { App } from "../app.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { describeScopes, isScoped, scopeCovers, type Principal } from "../policy/index.js";

/** Refuses an issuance the principal's scope does not cover. */
export async function checkIssuanceScope(app: App, principal: Principal, deviceId: string | undefined) {
  if (!isScoped(principal.scopes)) return;
  if (deviceId === undefined) {
    throw new KeyfleetError(
      "forbidden",
      `this token is scoped (${describeScopes(principal.scopes)}): it issues only for a device in its scope; send deviceId`,
    );
  }
  await checkDeviceScope(app, principal, deviceId);
}

/** Not found, unless the device exists and the scope covers it. */
export async function checkDeviceScope(app: App, principal: Principal, deviceId: string | null) {
  if (!isScoped(principal.scopes)) return;
  const device = deviceId === null ? undefined : await app.devices.get(deviceId).catch(() => undefined);
  if (!device || !scopeCovers(principal.scopes, device)) {
    throw new KeyfleetError("not-found", deviceId === null ? "not found" : `no device ${quoted(deviceId)}`);
  }
}

/** The list filter that keeps a scoped principal inside its scope. */
export function scopeFilter(principal: Principal) {
  return isScoped(principal.scopes)
    ? { devicesWith: { tenant: principal.scopes.tenant ?? [], region: principal.scopes.region ?? [] } }
    : {};
}
