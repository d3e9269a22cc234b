/**
 * Many rows in one statement: `insert … select … from jsonRows(rows)`, the rows as one jsonb
 * parameter (an array of arrays), column n read as `r->>n`. Measured on 10,000 audit entries:
 * JSON.stringify plus PostgreSQL's JSON parser ≈ 50 ms a round trip, where pg's array literals
 * (`unnest($1::text[])`) take ≈ 330 ms and bind parameters cap a statement at 65,535.
 */
import { sql, type RawBuilder } from "kysely";

export type JsonCell = string | number | null;

/** The rows as a set of jsonb arrays named `r`, for a FROM clause. */
export function jsonRows(rows: readonly (readonly JsonCell[])[]): RawBuilder<unknown> {
  return sql`jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as r`;
}

/** Bytes as hex, for a cell that `decode(r->>n, 'hex')` turns back into bytea. */
export const hexCell = (bytes: Uint8Array | null | undefined): string | null =>
  bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex") : null;
