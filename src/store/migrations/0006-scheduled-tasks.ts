/**
 * Background work (DESIGN §6): one row per periodic task, saying when it is next due. A node runs a
 * task only after claiming its row (`for update skip locked`, then moving `due_at` on, in one short
 * transaction), so however many nodes run the task runner, each run happens once.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table scheduled_tasks (
    name        text primary key,
    due_at      timestamptz not null,
    last_run_at timestamptz,
    last_error  text
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table scheduled_tasks`.execute(db);
}
