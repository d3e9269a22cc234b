/**
 * Reading in one snapshot, and following status changes by snapshot (migration 0021): the CRL
 * producers and the OCSP refresh both ask which `status_changes` a given snapshot did not see
 * (written by transactions it counted in flight or that began after it), a question a sequence
 * cursor cannot answer, since numbers are taken at insert and not at commit.
 */
import { sql, type Kysely, type SelectQueryBuilder } from "kysely";
import type { Tables } from "./schema.js";

/** First in a transaction: its every read sees one snapshot. */
export async function repeatableRead(db: Kysely<Tables>): Promise<void> {
  await sql`set transaction isolation level repeatable read`.execute(db);
}

/** The snapshot `db` reads in now (pg_snapshot, as text): in a repeatable-read transaction, the transaction's. */
export async function currentSnapshot(db: Kysely<Tables>): Promise<string> {
  const { rows } = await sql<{ s: string }>`select pg_current_snapshot()::text as s`.execute(db);
  return rows[0]!.s;
}

/** Narrows a query of `status_changes` to the changes `snapshot` did not see. */
export function unseenBy<Q extends SelectQueryBuilder<Tables, "status_changes", object>>(
  q: Q,
  snapshot: string,
): Q {
  return q
    .where(sql<boolean>`xid >= pg_snapshot_xmin(${snapshot}::pg_snapshot)`)
    .where(sql<boolean>`not pg_visible_in_snapshot(xid, ${snapshot}::pg_snapshot)`) as Q;
}
