/**
 * Option values into checked values, before any command opens the app: whole numbers, lifetimes,
 * page cursors and the files options name. A bad value is one `malformed-request` line; a file
 * that is not there is `not-found`.
 */
import { readFile } from "node:fs/promises";
import { KeyfleetError, deviceIdPattern, quoted } from "../domain/index.js";
import { isoTimePattern } from "../domain/iso-time.js";

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

/** A syntax bound only (the longest lifetime is policy's rule, checked where tokens are made). */
const maxTtlDays = 1_000_000_000;

/** `--ttl-days`: whole days, or `never` said on purpose; absent: the default lifetime (undefined). */
export function ttlOption(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === "never") return null;
  try {
    return integerOption("--ttl-days", value, 1, maxTtlDays) * 86400;
  } catch {
    throw new KeyfleetError(
      "malformed-request",
      `--ttl-days must be a whole number of days (1 or more), or never, got ${quoted(value)}`,
    );
  }
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

/** The bytes of a file an option names, base64 (operations carry JSON); unreadable is one line. */
export async function readInput(path: string): Promise<string> {
  return (await readNamedFile(path)).toString("base64");
}

/** A UTF-8 text file an argument names (a policy document); unreadable or not UTF-8 is one line. */
export async function readText(path: string): Promise<string> {
  const bytes = await readNamedFile(path);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new KeyfleetError("malformed-request", `${path} is not UTF-8 text`, { cause });
  }
}

async function readNamedFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new KeyfleetError("not-found", `no file ${path}`, { cause });
    throw new KeyfleetError("malformed-request", `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

const durationUnits: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--ttl 15m`: a whole number with a unit, s, m, h or d. */
export function durationOption(flag: string, value: string): number {
  const m = /^([0-9]{1,9})([smhd])$/.exec(value);
  const seconds = m ? Number(m[1]) * durationUnits[m[2]!]! : 0;
  if (seconds <= 0) {
    throw new KeyfleetError(
      "malformed-request",
      `${flag} must be a whole number with a unit (s, m, h or d), as 15m or 2h, got ${quoted(value)}`,
    );
  }
  return seconds;
}

/** `--invalidity-date 2026-11-30T08:00:00Z`: an ISO 8601 date and time with its zone (or a date alone, UTC); returned as ISO. */
export function dateOption(flag: string, value: string): string {
  const iso = new RegExp(isoTimePattern).test(value);
  const date = new Date(value);
  if (!iso || Number.isNaN(date.getTime())) {
    throw new KeyfleetError(
      "malformed-request",
      `${flag} must be an ISO 8601 time with its zone, as 2026-11-30T08:00:00Z, got ${quoted(value)}`,
    );
  }
  return date.toISOString();
}

/**
 * `--rate N/s` or `N/min`: devices per second or per minute. The syntax only; the registry bounds
 * the number (rotation-pacing.ts), for the API and the CLI alike.
 */
export function rateOption(value: string): { devices: number; per: "second" | "minute" } {
  const m = /^([0-9]{1,15})\/(s|min)$/.exec(value);
  if (!m) {
    throw new KeyfleetError(
      "malformed-request",
      `--rate is devices per second or per minute, as N/s or N/min (e.g. 10/s), got ${quoted(value)}`,
    );
  }
  return { devices: Number(m[1]), per: m[2] === "s" ? "second" : "minute" };
}
