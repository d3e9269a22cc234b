/**
 * CRL scopes (issue 17): an issuer's certificates are split into `crl_shards` shards, each with
 * its own full and delta CRL, so a large fleet's relying parties fetch a fraction of its
 * revocations. A certificate's shard is fixed when it is issued (its CRL distribution point names
 * it), so the count only grows. Published CRLs are kept per (issuer, shard, kind).
 *
 * `crl_delta_bases` is each scope's delta base: the full CRL its deltas are made against, kept a
 * day while full CRLs are remade more often (for relying parties that read only full CRLs), so a
 * delta-aware relying party fetches a full CRL about once a day and a small delta in between.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table issuers add column crl_shards smallint not null default 1
        check (crl_shards >= 1)`,
  sql`alter table certificates add column crl_shard smallint not null default 0 check (crl_shard >= 0)`,
  sql`drop index certificates_not_good`,
  sql`create index certificates_not_good on certificates (issuer_id, crl_shard, serial) where status <> 'good'`,
  sql`alter table published_crls add column shard smallint not null default 0`,
  sql`alter table published_crls drop constraint published_crls_pkey`,
  sql`alter table published_crls add primary key (issuer_id, shard, kind)`,
  sql`alter table published_crl_parts add column shard smallint not null default 0`,
  sql`alter table published_crl_parts drop constraint published_crl_parts_pkey`,
  sql`alter table published_crl_parts add primary key (issuer_id, shard, kind, number, part)`,
  sql`create table crl_delta_bases (
        issuer_id   text not null references issuers (id),
        shard       smallint not null,
        number      bigint not null check (number > 0),
        snapshot    pg_snapshot not null,
        this_update timestamptz not null,
        primary key (issuer_id, shard)
      )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table crl_delta_bases`.execute(db);
  await sql`delete from published_crl_parts where shard <> 0`.execute(db);
  await sql`delete from published_crls where shard <> 0`.execute(db);
  await sql`alter table published_crl_parts drop constraint published_crl_parts_pkey`.execute(db);
  await sql`alter table published_crl_parts add primary key (issuer_id, kind, number, part)`.execute(db);
  await sql`alter table published_crl_parts drop column shard`.execute(db);
  await sql`alter table published_crls drop constraint published_crls_pkey`.execute(db);
  await sql`alter table published_crls add primary key (issuer_id, kind)`.execute(db);
  await sql`alter table published_crls drop column shard`.execute(db);
  await sql`drop index certificates_not_good`.execute(db);
  await sql`create index certificates_not_good on certificates (issuer_id, serial) where status <> 'good'`.execute(
    db,
  );
  await sql`alter table certificates drop column crl_shard`.execute(db);
  await sql`alter table issuers drop column crl_shards`.execute(db);
}
