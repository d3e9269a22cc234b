/**
 * Audit entries: what each leaf of the log says, in a versioned schema, serialised by RFC 8785 JSON
 * canonicalization, so that anyone holding the exported entries can recompute every leaf hash
 * (SHA-256(0x00 ‖ the entry's UTF-8 bytes)) without our code.
 *
 * Version 1: `{"v":1,"type":…,"time":…,"actor":…,"subject":…,"details":{…}}` where
 * - `type` names the event (the union below; new types may be added, none is ever renamed),
 * - `time` is RFC 3339 UTC with milliseconds, when the event was recorded,
 * - `actor` is who caused it: `token:<id>`, `oidc:<issuer>#<sub>`, `cli:<user>`, `device:<id>` (a
 *   device enrolling, authenticated), `system` (first start) or `anonymous`,
 * - `subject` is what it is about: `certificate:<serial>`, `ca:<id>`, `token:<id>`, `setting:<key>`,
 *   `device:<id>`, `request:<method> <path>`, `policy:<version>`, `manufacturer:<id>`,
 *   `enrollment:<method> <path>` (a refused enrollment), `key:<id>` (a key's record),
 * - `details` holds the event's facts; never a secret, never a private key.
 */
import canonicalize from "canonicalize";
import { KeyfleetError } from "../domain/index.js";

export const entryVersion = 1;

export type AuditEventType =
  | "ca.created"
  | "ca.crl-shards-changed"
  | "certificate.issued"
  | "token.created"
  | "token.revoked"
  | "setting.changed"
  | "request.refused"
  | "device.registered"
  | "device.transitioned"
  | "policy.applied"
  | "manufacturer.added"
  | "manufacturer.certificate-added"
  | "bootstrap-token.created"
  | "enrollment.refused"
  /** A decommissioning device's signed report that it erased its key (registry/erase-reports.ts). */
  | "device.erase-reported"
  /** An operator's request that a device rotate its credential (a bulk rotate job; registry/rotation-requests.ts). */
  | "device.rotation-requested"
  /** A key generated but never established (its CA or log was not recorded), destroyed in its store. */
  | "key.destroyed"
  /** A certificate revoked, put on hold, or its hold lifted, by an operator (a device's transitions say theirs). */
  | "certificate.revoked"
  | "certificate.held"
  | "certificate.released"
  /** A CA's CRL signed and written where relying parties (and brokers) read it. */
  | "crl.published";

const eventTypes: ReadonlySet<string> = new Set<AuditEventType>([
  "ca.created",
  "ca.crl-shards-changed",
  "certificate.issued",
  "token.created",
  "token.revoked",
  "setting.changed",
  "request.refused",
  "device.registered",
  "device.transitioned",
  "policy.applied",
  "manufacturer.added",
  "manufacturer.certificate-added",
  "bootstrap-token.created",
  "enrollment.refused",
  "device.erase-reported",
  "device.rotation-requested",
  "key.destroyed",
  "certificate.revoked",
  "certificate.held",
  "certificate.released",
  "crl.published",
]);

export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/** What a caller appends; the log adds the version and, unless given, the time. */
export interface AuditEvent {
  readonly type: AuditEventType;
  readonly actor: string;
  readonly subject: string;
  readonly details: { readonly [k: string]: JsonValue };
  readonly time?: Date;
}

export interface AuditEntry {
  readonly v: typeof entryVersion;
  readonly type: AuditEventType;
  readonly time: string;
  readonly actor: string;
  readonly subject: string;
  readonly details: { readonly [k: string]: JsonValue };
}

export function entryOf(event: AuditEvent, now: Date): AuditEntry {
  return {
    v: entryVersion,
    type: event.type,
    time: (event.time ?? now).toISOString(),
    actor: event.actor,
    subject: event.subject,
    details: event.details,
  };
}

/** The entry's canonical JSON (RFC 8785): the bytes its leaf hash covers. */
export function encodeEntry(entry: AuditEntry): string {
  const text = canonicalize(entry);
  if (text === undefined) throw new KeyfleetError("internal", "an audit entry could not be serialised");
  return text;
}

/**
 * An entry read back from storage or an export: checked against schema version 1, and required to
 * be in canonical form already (so the bytes that were hashed are the bytes that were read).
 */
export function decodeEntry(text: string, where: string): AuditEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyfleetError("malformed-request", `${where} is not JSON`);
  }
  const e = value as Partial<AuditEntry> | null;
  const fields = e && typeof e === "object" && !Array.isArray(e) ? Object.keys(e).sort().join(",") : "";
  if (
    fields !== "actor,details,subject,time,type,v" ||
    e!.v !== entryVersion ||
    !eventTypes.has(e!.type as string) ||
    typeof e!.time !== "string" ||
    Number.isNaN(Date.parse(e!.time)) ||
    typeof e!.actor !== "string" ||
    typeof e!.subject !== "string" ||
    typeof e!.details !== "object" ||
    e!.details === null ||
    Array.isArray(e!.details)
  ) {
    throw new KeyfleetError("malformed-request", `${where} is not a version ${entryVersion} audit entry`);
  }
  if (canonicalize(value) !== text) {
    throw new KeyfleetError("malformed-request", `${where} is not in canonical form (RFC 8785)`);
  }
  return e as AuditEntry;
}
