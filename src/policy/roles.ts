/**
 * Roles and what each may do (issue 15, separation of duties). A permission is
 * "<resource>.<action>"; a role grants a set of them; scopes (scopes.ts) narrow where. Pure: the
 * services ask `authorize` (authorize.ts), which asks `allows(role, permission)`.
 *
 * - viewer reads the fleet; auditor reads it and the audit log, and changes nothing;
 * - provisioner registers devices and has certificates issued for them;
 * - operator runs the fleet: registers, issues, revokes, and gives lifecycle commands;
 * - security-officer suspends, resumes and decommissions, revokes, and reads the audit log; issues
 *   nothing;
 * - policy-admin changes policy, and neither issues nor changes a device's state;
 * - ca-admin manages the CAs and their keys, and the manufacturers' CAs IDevIDs are checked
 *   against (trust anchors: a role that registers devices must not also choose what vouches for
 *   them), and touches no device;
 * - metrics reads /metrics and nothing else (a Prometheus scraper's token);
 * - admin may do everything: the first token, for setting the others up.
 *
 * And one role no token or JWT can hold: `device`, a device acting for itself at enrollment (EST,
 * the native enrollment API), authenticated by its IDevID, a bootstrap token or its current
 * certificate. It may enroll, and only itself (authorize.ts holds it to its own record).
 */
import { KeyfleetError } from "../domain/index.js";

export const permissions = [
  "ca.read",
  "ca.manage",
  "cert.read",
  "cert.issue",
  "cert.revoke",
  "device.read",
  "device.register",
  "device.lifecycle",
  "token.manage",
  "metrics.read",
  "audit.read",
  "event.read",
  "policy.read",
  "policy.write",
  "manufacturer.read",
  "manufacturer.manage",
  "device.enroll",
] as const;
export type Permission = (typeof permissions)[number];

/** The roles an API token or an OIDC JWT may hold. */
export const roles = [
  "admin",
  "viewer",
  "operator",
  "provisioner",
  "security-officer",
  "policy-admin",
  "ca-admin",
  "auditor",
  "metrics",
] as const;
export type ApiRole = (typeof roles)[number];
export type Role = ApiRole | "device";

const reads: readonly Permission[] = ["ca.read", "cert.read", "device.read", "manufacturer.read"];

const grants: Readonly<Record<Role, readonly Permission[]>> = {
  admin: permissions.filter((p) => p !== "device.enroll"),
  viewer: reads,
  operator: [
    ...reads,
    "device.register",
    "device.lifecycle",
    "cert.issue",
    "cert.revoke",
    "event.read",
    "metrics.read",
  ],
  provisioner: [...reads, "device.register", "cert.issue"],
  "security-officer": [...reads, "device.lifecycle", "cert.revoke", "event.read", "audit.read"],
  "policy-admin": ["ca.read", "device.read", "manufacturer.read", "policy.read", "policy.write"],
  "ca-admin": [
    "ca.read",
    "ca.manage",
    "cert.read",
    "manufacturer.read",
    "manufacturer.manage",
    "metrics.read",
  ],
  auditor: [...reads, "audit.read", "event.read", "policy.read", "metrics.read"],
  metrics: ["metrics.read"],
  device: ["device.enroll"],
};

/** A role an API principal may hold; `device` is not one (devices authenticate at enrollment). */
export function parseRole(value: string): ApiRole {
  if (!(roles as readonly string[]).includes(value)) {
    throw new KeyfleetError("malformed-request", `unknown role "${value}"; use one of ${roles.join(", ")}`);
  }
  return value as ApiRole;
}

export function allows(role: Role, permission: Permission): boolean {
  return grants[role].includes(permission);
}
