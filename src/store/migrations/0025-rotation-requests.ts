/**
 * Rotation requests (issue 17, atomic rotation): an operator's request that a device rotate its
 * credential (a bulk `rotate` job marks each matching device), with who asked, why, when, and the
 * time the device is due (`renew_at`, spread by the job's rate). One row per device: a later
 * request replaces an earlier one; the device's next rotation commit deletes it. A bulk job keeps
 * its rate (so a resumed job paces as it began) and where its pacing stands: the window it is in
 * (`paced_from`) and how many devices it has spread over it (`paced`).
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table rotation_requests (
        device_id     text primary key references devices (id),
        job_id        text references bulk_jobs (id),
        requested_by  text not null,
        reason        text,
        requested_at  timestamptz not null,
        renew_at      timestamptz not null,
        audit_index   bigint not null
      )`,
  sql`alter table bulk_jobs
        add column rate_devices integer check (rate_devices between 1 and 100000),
        add column rate_per text check (rate_per in ('second', 'minute')),
        add column paced_from timestamptz,
        add column paced integer not null default 0,
        add constraint bulk_jobs_rate check ((rate_devices is null) = (rate_per is null))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rotation_requests`.execute(db);
  await sql`alter table bulk_jobs drop constraint bulk_jobs_rate, drop column rate_devices, drop column rate_per, drop column paced_from, drop column paced`.execute(
    db,
  );
}
