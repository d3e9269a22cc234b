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
