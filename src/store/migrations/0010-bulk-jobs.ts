/**
 * Bulk jobs (issue 15): a lifecycle command applied to every device matching a filter. The job row
 * holds the filter and the progress; one item row per device, written in the transaction of that
 * device's transition, so a job resumed after a crash (by any node) never applies it twice.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table bulk_jobs (
        id          text primary key,
        command     text not null,
        filter      jsonb not null,
        reason      text,
        state       text not null default 'running' check (state in ('running', 'done')),
        total       integer not null,
        applied     integer not null default 0,
        refused     integer not null default 0,
        cursor      text,
        created_by  text not null,
        -- who the job acts as (actor, role, scopes): whichever node resumes it acts for them
        caller      jsonb not null,
        created_at  timestamptz not null default now(),
        updated_at  timestamptz not null default now(),
        seq         bigint generated always as identity unique
      )`,
  sql`create index bulk_jobs_running on bulk_jobs (seq) where state = 'running'`,
  sql`create table bulk_job_items (
        job_id     text not null references bulk_jobs (id),
        device_id  text not null references devices (id),
        outcome    text not null check (outcome in ('applied', 'refused')),
        code       text,
        message    text,
        at         timestamptz not null,
        primary key (job_id, device_id)
      )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table bulk_job_items, bulk_jobs`.execute(db);
}
