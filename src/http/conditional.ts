/**
 * Conditional and idempotent requests: the device version as a strong ETag (RFC 9110 §8.8.3),
 * If-Match read back into a version (§13.1.1), and one Idempotency-Key header.
 */
import { KeyfleetError } from "../domain/index.js";

export const etagOf = (version: number): string => `"${version}"`;

/** The version an If-Match names; undefined when absent or `*` (any current version). */
export function ifMatchVersion(header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === "*") return undefined;
  const m = typeof header === "string" ? /^"([1-9][0-9]{0,9})"$/.exec(header.trim()) : null;
  if (!m) {
    throw new KeyfleetError(
      "malformed-request",
      'If-Match is one ETag as this API sends it (a quoted version, "7"), or *',
    );
  }
  return Number(m[1]);
}

export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (Array.isArray(header)) throw new KeyfleetError("malformed-request", "send one Idempotency-Key header");
  return header;
}
