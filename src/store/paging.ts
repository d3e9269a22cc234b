/** Lists are paginated by key (DESIGN §5); a page holds 1–500 rows, 50 unless asked otherwise. */
import { KeyfleetError } from "../domain/index.js";

export const maxPageSize = 500;

/** The page size to use; a size outside 1–500 is refused, not quietly clamped. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
    throw new KeyfleetError("malformed-request", `a page holds 1–${maxPageSize} items, asked for ${limit}`);
  }
  return limit;
}

/** Lists newest first by a bigint sequence: the cursor is the last `seq` of the previous page. */
export function checkSequenceCursor(after: string | undefined): void {
  // 18 digits always fit a signed 64-bit integer (max 9223372036854775807, 19 digits).
  if (after !== undefined && !/^[0-9]{1,18}$/.test(after)) {
    throw new KeyfleetError("malformed-request", "after must be the `next` cursor of an earlier page");
  }
}

/** A page from `limit + 1` rows fetched in order: the first `limit`, and the cursor if there are more. */
export function sequencePage<R extends { seq: unknown }>(
  rows: R[],
  limit: number,
): { items: R[]; next: string | undefined } {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? String(items[items.length - 1]!.seq) : undefined };
}
