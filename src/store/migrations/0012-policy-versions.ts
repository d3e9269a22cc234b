/**
 * Policy versions (issue 15): each applied policy document is a new, numbered, immutable version,
 * kept as its author wrote it (comments too) with the SHA-256 its audit leaf names. Versions are
 * never changed or removed: a decision records the version it was made under, and that version
 * must still say what it said.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table policy_versions (
    version     integer primary key check (version > 0),
    document    text not null,
    sha256      bytea not null check (length(sha256) = 32),
    comment     text,
    created_by  text not null,
    created_at  timestamptz not null default now()
  )`.execute(db);
  await sql`create function policy_versions_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'policy versions are immutable: % on % refused', tg_op, tg_table_name
        using errcode = 'P0001';
    end
  $$`.execute(db);
  await sql`create trigger policy_versions_immutable before update or delete on policy_versions
    for each row execute function policy_versions_immutable()`.execute(db);
  await sql`create trigger policy_versions_no_truncate before truncate on policy_versions
    for each statement execute function policy_versions_immutable()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table policy_versions`.execute(db);
  await sql`drop function policy_versions_immutable()`.execute(db);
}
