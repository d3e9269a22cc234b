/**
 * CRL production (issue 17): one CRL Number sequence per issuer (RFC 5280 §5.2.3: full and delta
 * CRLs share it, and it only grows), and an index by which a CRL streams an issuer's revoked and
 * held certificates in serial order without reading the good ones.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table crl_numbers (
        issuer_id   text primary key references issuers (id),
        last_number bigint not null check (last_number > 0)
      )`,
  sql`create index certificates_not_good on certificates (issuer_id, serial) where status <> 'good'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index certificates_not_good`.execute(db);
  await sql`drop table crl_numbers`.execute(db);
}
