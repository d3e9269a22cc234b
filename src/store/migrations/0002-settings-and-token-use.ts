/**
 * Authority settings in the database (every process issues with the same public URL), a history of
 * their changes, and what token management needs: a key to page by, the last use, the successor.
 */
import { sql, type Kysely } from "kysely";

// One statement per entry: PGlite's extended protocol takes a single command per query.
const statements = `
    create table settings (
      key         text primary key,
      value       text not null,
      updated_at  timestamptz not null default now(),
      updated_by  text not null
    );

    -- Every change to a setting, oldest first: who changed what from what to what, and when.
    create table setting_changes (
      seq         bigint generated always as identity primary key,
      key         text not null,
      old_value   text,
      new_value   text not null,
      actor       text not null,
      changed_at  timestamptz not null default now()
    );

    alter table api_tokens add column seq bigint generated always as identity;
    create unique index api_tokens_seq on api_tokens (seq);
    alter table api_tokens add column last_used_at timestamptz;
    alter table api_tokens add column replaced_by text references api_tokens (id);
`.split(/;\s*$/m);

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    if (statement.replace(/--.*$/gm, "").trim()) await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table setting_changes, settings`.execute(db);
  await sql`alter table api_tokens drop column replaced_by, drop column last_used_at, drop column seq`.execute(
    db,
  );
}
