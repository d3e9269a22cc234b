/**
 * Manufacturers (issue 15): the makers whose IDevIDs the registry accepts, and their CA
 * certificates, against which a device's IDevID must validate. Append-style: a manufacturer and
 * each CA certificate are added (with an audit leaf), never edited in place.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table manufacturers (
        id          text primary key,
        name        text not null unique,
        description text,
        created_at  timestamptz not null default now()
      )`,
  sql`create table manufacturer_certificates (
        manufacturer_id    text not null references manufacturers (id),
        fingerprint_sha256 text not null,
        certificate        bytea not null,
        subject            text not null,
        not_after          timestamptz not null,
        added_by           text not null,
        added_at           timestamptz not null default now(),
        primary key (manufacturer_id, fingerprint_sha256)
      )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table manufacturer_certificates, manufacturers`.execute(db);
}
