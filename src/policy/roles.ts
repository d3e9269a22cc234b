/**
 * Roles and what each may do. A permission is "<resource>.<action>"; a role grants a set of them.
 * Pure: the HTTP layer asks `allows(role, permission)` and refuses with `forbidden` otherwise.
 */
import { KeyfleetError } from "../domain/index.js";

export type Permission =
  "ca.read" | "ca.manage" | "cert.read" | "cert.issue" | "device.read" | "device.write" | "token.manage";

export type Role = "admin" | "operator" | "auditor";

const grants: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ["ca.read", "ca.manage", "cert.read", "cert.issue", "device.read", "device.write", "token.manage"],
  operator: ["ca.read", "cert.read", "cert.issue", "device.read", "device.write"],
  auditor: ["ca.read", "cert.read", "device.read"],
};

export const roles = Object.keys(grants) as Role[];

export function parseRole(value: string): Role {
  if (!(roles as string[]).includes(value)) {
    throw new KeyfleetError("malformed-request", `unknown role "${value}"; use one of ${roles.join(", ")}`);
  }
  return value as Role;
}

export function allows(role: Role, permission: Permission): boolean {
  return grants[role].includes(permission);
}
