/**
 * Revocation records (issue 17). `status_changes` holds one row per change of a certificate's
 * status — revoked, put on hold, hold lifted — written in the transaction of the change: who, why,
 * when, the invalidity date and the evidence. Its sequence is the work queue of the CRL and OCSP
 * producers: a delta CRL holds the certificates changed after its base CRL's last `seq`, and OCSP
 * re-signs what changed after its cursor. Rows are never updated. `certificates` keeps the current
 * status (and now the invalidity date), so a full CRL still reads one index.
 *
 * `published_crls` keeps each issuer's newest full and delta CRL with the status change it runs
 * through, and `published_crl_parts` its bytes, so any node (or a restart) serves and builds on the
 * same CRLs.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table status_changes (
        seq             bigint generated always as identity primary key,
        issuer_id       text not null references issuers (id),
        serial          text not null,
        status          text not null check (status in ('good', 'hold', 'revoked')),
        reason          text,
        revoked_at      timestamptz,
        invalidity_date timestamptz,
        actor           text not null,
        evidence        jsonb not null default '[]',
        created_at      timestamptz not null default now(),
        check ((status = 'good') = (reason is null)),
        check ((status = 'good') = (revoked_at is null)),
        foreign key (issuer_id, serial) references certificates (issuer_id, serial)
      )`,
  sql`create index status_changes_issuer on status_changes (issuer_id, seq)`,
  sql`create function status_changes_immutable() returns trigger language plpgsql as $$
        begin
          raise exception 'revocation records are never changed: % on % refused', tg_op, tg_table_name
            using errcode = 'P0001';
        end
      $$`,
  sql`create trigger status_changes_immutable before update on status_changes
        for each row execute function status_changes_immutable()`,
  sql`alter table certificates add column invalidity_date timestamptz`,
  sql`create table published_crls (
        issuer_id   text not null references issuers (id),
        kind        text not null check (kind in ('full', 'delta')),
        number      bigint not null check (number > 0),
        base_number bigint check ((kind = 'delta') = (base_number is not null)),
        through_seq bigint not null,
        this_update timestamptz not null,
        next_update timestamptz not null,
        entries     integer not null,
        size        integer not null,
        primary key (issuer_id, kind)
      )`,
  // The CRL's bytes in parts of at most a MiB: a million-entry CRL (≈ 47 MiB) is written and read
  // a part at a time, never as one parameter or one row in memory.
  sql`create table published_crl_parts (
        issuer_id text not null,
        kind      text not null,
        number    bigint not null,
        part      integer not null check (part >= 0),
        bytes     bytea not null,
        primary key (issuer_id, kind, number, part)
      )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table published_crl_parts`.execute(db);
  await sql`drop table published_crls`.execute(db);
  await sql`alter table certificates drop column invalidity_date`.execute(db);
  await sql`drop table status_changes`.execute(db);
  await sql`drop function status_changes_immutable()`.execute(db);
}
