/**
 * Erase reports (issue 17, decommission): a decommissioning device's signed statement that it
 * destroyed its key, kept as the evidence its finalize carries. One row per report; the nonce the
 * signature covers is spent in the report's transaction (enrollment_nonces), so a replay finds it
 * spent and nothing is written.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table erase_reports (
        id           text primary key,
        device_id    text not null references devices (id),
        serial       text not null,
        signature    bytea not null,
        reported_at  timestamptz not null,
        audit_index  bigint not null
      )`.execute(db);
  await sql`create index erase_reports_device on erase_reports (device_id, reported_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table erase_reports`.execute(db);
}
