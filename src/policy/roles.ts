/**
 * Roles and what each may do. A permission is "<resource>.<action>"; a role grants a set of them.
 * Pure: the HTTP layer asks `allows(role, permission)` and refuses with `forbidden` otherwise.
 */
import { KeyfleetError } from "../domain/index.js";

export type Permission =
  | "ca.read"
  | "ca.manage"
  | "cert.read"
  | "cert.issue"
  | "device.read"
  | "device.write"
  | "token.manage"
  | "metrics.read"
  | "audit.read"
  | "event.read";

/** `metrics` reads /metrics and nothing else: the least a Prometheus scraper's token needs. */
export type Role = "admin" | "operator" | "auditor" | "metrics";

const grants: Readonly<Record<Role, readonly Permission[]>> = {
  admin: [
    "ca.read",
    "ca.manage",
    "cert.read",
    "cert.issue",
    "device.read",
    "device.write",
    "token.manage",
    "metrics.read",
    "audit.read",
    "event.read",
  ],
  operator: [
    "ca.read",
    "cert.read",
    "cert.issue",
    "device.read",
    "device.write",
    "metrics.read",
    "event.read",
  ],
  auditor: ["ca.read", "cert.read", "device.read", "metrics.read", "audit.read", "event.read"],
  metrics: ["metrics.read"],
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
