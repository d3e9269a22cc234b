/**
 * Option values into checked values, before any command opens the app: whole numbers, page
 * cursors and the files options name. A bad value is one `malformed-request` line.
 */
import { readFile } from "node:fs/promises";
import { KeyfleetError, quoted } from "../domain/index.js";
import { deviceIdPattern } from "../registry/index.js";

/**
 * A whole number from `min` to `max`, in plain decimal digits: `0x10`, `1e3`, `1.5`, `+5`, `" 5"`
 * and the empty string are refused, though `Number()` would take them.
 */
export function integerOption(flag: string, value: string, min: number, max: number): number {
  const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new KeyfleetError(
      "malformed-request",
      `${flag} must be a whole number from ${min} to ${max}, got ${quoted(value)}`,
    );
  }
  return n;
}

/** A page size, as every list command and the HTTP API take it. */
export function limitOption(value: string): number {
  return integerOption("--limit", value, 1, 500);
}

/** A key-ordered cursor over a bigint sequence: decimal digits that fit a PostgreSQL bigint. */
export function sequenceCursorOption(value: string): string {
  // 18 digits always fit a signed 64-bit integer (max 9223372036854775807, 19 digits).
  if (!/^[0-9]{1,18}$/.test(value)) {
    throw new KeyfleetError(
      "malformed-request",
      `--after must be a cursor printed by an earlier page (1–18 digits), got ${quoted(value)}`,
    );
  }
  return value;
}

/** A cursor that is the last device id of the previous page (devices are paged by id, a text key). */
export function deviceCursorOption(value: string): string {
  if (!deviceIdPattern.test(value)) {
    throw new KeyfleetError(
      "malformed-request",
      `--after must be a device id printed by an earlier page, got ${quoted(value)}`,
    );
  }
  return value;
}

/** The bytes of a file an option names; a missing or unreadable file is a one-line refusal. */
export async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new KeyfleetError("malformed-request", `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
