/**
 * Enrollment (issue 16): one-time bootstrap tokens for devices without an IDevID, and the nonces a
 * device puts in its CSR or its evidence. Both are single use: a use is an UPDATE that succeeds
 * once (`used_at is null`), in the transaction of the certificate it brings, so a refused
 * enrollment leaves them usable and a replay finds them spent. Only SHA-256 digests of the
 * secrets are stored.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`create table bootstrap_tokens (
        id          text primary key,
        device_id   text not null references devices (id),
        secret_hash bytea not null unique,
        created_by  text not null,
        created_at  timestamptz not null default now(),
        expires_at  timestamptz not null,
        used_at     timestamptz,
        certificate text,
        check ((used_at is null) = (certificate is null))
      )`,
  sql`create index bootstrap_tokens_device on bootstrap_tokens (device_id, created_at)`,
  sql`create table enrollment_nonces (
        nonce_hash  bytea primary key,
        device_id   text not null references devices (id),
        created_at  timestamptz not null default now(),
        expires_at  timestamptz not null,
        used_at     timestamptz
      )`,
  // The sweep of spent and expired nonces walks this; nothing else scans the table.
  sql`create index enrollment_nonces_expires on enrollment_nonces (expires_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table enrollment_nonces, bootstrap_tokens`.execute(db);
}
