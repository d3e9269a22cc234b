/**
 * Driver errors in the store's words (DESIGN §6, unit of work): services never read a SQLSTATE.
 * PostgreSQL and PGlite report the same codes.
 */
import { KeyfleetError } from "../domain/index.js";

const UNIQUE_VIOLATION = "23505";

/** A unique-constraint violation as `conflict` with `message`; any other error as it was. */
export function duplicateAsConflict(e: unknown, message: string): unknown {
  return (e as { code?: unknown } | null)?.code === UNIQUE_VIOLATION
    ? new KeyfleetError("conflict", message, { cause: e })
    : e;
}
