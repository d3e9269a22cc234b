/**
 * Key custody (issue 14): a key is recorded before it is first used, as `generated`, and the
 * transaction that establishes what it is for (a CA, the audit log) makes it `active`. A key a
 * crash left `generated` is destroyed by the key sweeper after a grace: first marked `destroying`
 * (activation is then refused), then destroyed in its store, then recorded `destroyed`. `created_at`
 * is the generation time the sweeper's grace counts from.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table keys drop constraint keys_state_check`,
  sql`alter table keys add constraint keys_state_check
        check (state in ('generated', 'active', 'archived', 'destroying', 'destroyed'))`,
  // The sweeper walks this; established and destroyed keys, nearly all rows, are not in it.
  sql`create index keys_unestablished on keys (created_at, id) where state in ('generated', 'destroying')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index keys_unestablished`.execute(db);
  await sql`alter table keys drop constraint keys_state_check`.execute(db);
  await sql`alter table keys add constraint keys_state_check
              check (state in ('active', 'archived', 'destroyed'))`.execute(db);
}
