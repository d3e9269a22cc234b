/**
 * The device lifecycle (issue 15, DESIGN §3): states the database itself holds to the eight, the
 * facts a transition rides on (a rotation's successor, a decommissioning's grace period), one row
 * per transition with its evidence, the transactional outbox, and the tombstones of decommissioned
 * hardware identities.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table devices
        add constraint devices_state check (state in ('registered', 'provisioned', 'active', 'rotating',
          'updating', 'suspended', 'decommissioning', 'decommissioned')),
        add column successor_serial text,
        add column grace_until timestamptz`,
  // One row per transition: who, why, on what evidence, under which policy; `idempotency_key`
  // (with the digest of what it asked) makes a retried command answer as the first one did.
  sql`create table lifecycle_events (
        seq             bigint generated always as identity primary key,
        id              text not null unique,
        device_id       text not null references devices (id),
        command         text not null,
        from_state      text not null,
        to_state        text not null,
        version         integer not null,
        actor           text not null,
        reason          text,
        evidence        jsonb not null default '[]',
        effects         jsonb not null default '[]',
        policy_version  integer not null,
        idempotency_key text,
        request_digest  bytea,
        at              timestamptz not null,
        audit_index     bigint not null,
        unique (device_id, version),
        unique (device_id, idempotency_key)
      )`,
  sql`create index lifecycle_events_device on lifecycle_events (device_id, seq)`,
  // The outbox: what dependent services follow. `position` is the index of the event's audit leaf,
  // given out under the audit head's lock and committed with it, so positions grow in commit
  // order: a reader following `position > cursor` never skips an event that commits late.
  sql`create table outbox (
        position   bigint primary key,
        id         text not null unique,
        type       text not null,
        subject    text not null,
        payload    jsonb not null,
        created_at timestamptz not null default now()
      )`,
  // A decommissioned device's hardware identity (serial, IDevID, public key) can never come back.
  sql`create table identity_tombstones (
        kind       text not null check (kind in ('serial', 'idevid-sha256', 'public-key-sha256')),
        value      text not null,
        device_id  text not null references devices (id),
        at         timestamptz not null,
        primary key (kind, value)
      )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table identity_tombstones, outbox, lifecycle_events`.execute(db);
  await sql`alter table devices drop constraint devices_state, drop column successor_serial, drop column grace_until`.execute(
    db,
  );
}
