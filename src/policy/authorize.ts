/**
 * The one authorization guard (DESIGN §6): services call `authorize(caller, permission, resource)`
 * before they act, so no entry point (admin API, CLI, EST, the dashboard) can skip it. A role
 * must grant the permission; a scoped caller must cover the resource, and a resource outside its
 * scope does not exist for it (`not-found`, the answer for an id that is not there).
 */
import { KeyfleetError } from "../domain/index.js";
import { allows, type Permission, type Role } from "./roles.js";
import { describeScopes, isScoped, scopeCovers, type ScopedAttributes, type Scopes } from "./scopes.js";
import { actorOf, type Principal } from "./principal.js";

/** Who asks a service to act. */
export interface Caller {
  /** How the audit log names it: `token:<id>`, `oidc:<issuer>#<sub>`, `cli:<user>`, `system`. */
  readonly actor: string;
  readonly role: Role;
  readonly scopes: Scopes;
  /** A device acting for itself (role `device`): the one device it may act on. */
  readonly device?: string | undefined;
}

export function callerOf(principal: Principal): Caller {
  return { actor: actorOf(principal), role: principal.role, scopes: principal.scopes };
}

/**
 * The operator at the CLI: whoever can open the data directory or the database can do anything
 * there, so the CLI acts as an unscoped admin, named by the user running it.
 */
export function operatorCaller(actor: string): Caller {
  return { actor, role: "admin", scopes: {} };
}

/** Keyfleet itself (a first start, a background task): unscoped, every permission an admin has. */
export const systemCaller: Caller = { actor: "system", role: "admin", scopes: {} };

/** A device at enrollment, authenticated as `deviceId` (by its IDevID, a bootstrap token or its certificate). */
export function deviceCaller(deviceId: string): Caller {
  return { actor: `device:${deviceId}`, role: "device", scopes: {}, device: deviceId };
}

/** What a permission is asked for: the attributes scopes are matched against. */
export interface ScopedResource {
  readonly attributes: ScopedAttributes;
  /** The device it is or belongs to, if any: a device caller may act on its own only. */
  readonly deviceId?: string | undefined;
  /** Names it in a refusal: `device "…"`. */
  readonly what: string;
  /**
   * A resource that exists answers `not-found` outside the scope (its existence is not told); one
   * the caller asks to create there is `forbidden`.
   */
  readonly creating?: boolean;
}

/** Refuses what the caller may not do: `forbidden` for a role without the permission; see ScopedResource. */
export function authorize(caller: Caller, permission: Permission, resource?: ScopedResource): void {
  if (!allows(caller.role, permission)) {
    throw new KeyfleetError("forbidden", `role "${caller.role}" may not ${permission}`);
  }
  // A device may act on its own record only (its role grants nothing that lists or reads others).
  const foreign = caller.device !== undefined && resource?.deviceId !== caller.device;
  if (resource && (foreign || !scopeCovers(caller.scopes, resource.attributes))) {
    if (resource.creating) {
      throw new KeyfleetError(
        "forbidden",
        `this token is scoped (${describeScopes(caller.scopes)}): ${resource.what} is outside its scope`,
      );
    }
    throw new KeyfleetError("not-found", `no ${resource.what}`);
  }
}

/** The scope a list must stay inside: undefined for an unscoped caller. */
export function listScope(caller: Caller): Scopes | undefined {
  return isScoped(caller.scopes) ? caller.scopes : undefined;
}
