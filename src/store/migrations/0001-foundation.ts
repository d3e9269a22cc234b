/**
 * The foundation schema: keys (metadata only), sealed software keys (ciphertext only), issuers,
 * devices, certificates, API tokens. Never edit a merged migration: add the next number.
 */
import { sql, type Kysely } from "kysely";

// One statement per entry: PGlite's extended protocol takes a single command per query.
const statements = `
    create table keys (
      id          text primary key,
      algorithm   text not null,
      store       text not null,
      handle      text not null,
      public_key  bytea not null,
      purpose     text not null,
      state       text not null default 'active' check (state in ('active', 'archived', 'destroyed')),
      created_at  timestamptz not null default now(),
      destroyed_at timestamptz,
      unique (store, handle)
    );

    -- Private keys of the software key store, sealed with AES-256-GCM under the KEK. Never clear text.
    create table sealed_keys (
      handle      text primary key,
      kek_source  text not null check (kek_source in ('passphrase', 'file')),
      kdf_salt    bytea,
      iv          bytea not null,
      ciphertext  bytea not null,
      tag         bytea not null,
      created_at  timestamptz not null default now()
    );

    create table issuers (
      id          text primary key,
      name        text not null unique,
      kind        text not null check (kind in ('root', 'intermediate')),
      parent_id   text references issuers (id),
      key_id      text not null references keys (id),
      certificate bytea not null,
      serial      text not null,
      subject     text not null,
      algorithm   text not null,
      not_before  timestamptz not null,
      not_after   timestamptz not null,
      state       text not null default 'active' check (state in ('active', 'retired')),
      created_at  timestamptz not null default now()
    );

    create table devices (
      id            text primary key,
      serial_number text not null,
      model         text,
      manufacturer  text,
      tenant        text not null default 'default',
      region        text,
      state         text not null default 'registered',
      idevid        bytea,
      version       integer not null default 1,
      created_at    timestamptz not null default now(),
      updated_at    timestamptz not null default now(),
      unique (tenant, serial_number)
    );

    create table certificates (
      seq               bigint generated always as identity primary key,
      issuer_id         text not null references issuers (id),
      serial            text not null,
      der               bytea not null,
      fingerprint       bytea not null unique,
      subject           text not null,
      sans              jsonb not null default '[]',
      profile           text not null,
      key_algorithm     text not null,
      public_key_sha256 bytea not null,
      policy_version    integer,
      device_id         text references devices (id),
      request_id        text unique,
      not_before        timestamptz not null,
      not_after         timestamptz not null,
      status            text not null default 'good' check (status in ('good', 'hold', 'revoked')),
      revoked_at        timestamptz,
      revocation_reason text,
      created_at        timestamptz not null default now(),
      unique (issuer_id, serial)
    );
    create index certificates_device on certificates (device_id, seq) where device_id is not null;
    create index certificates_not_after on certificates (not_after);
    create index certificates_serial on certificates (serial);

    create table api_tokens (
      id          text primary key,
      secret_hash bytea not null unique,
      role        text not null,
      scopes      jsonb not null default '{}',
      description text,
      created_at  timestamptz not null default now(),
      expires_at  timestamptz,
      revoked_at  timestamptz
    );
`.split(/;\s*$/m);

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    if (statement.replace(/--.*$/gm, "").trim()) await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table api_tokens, certificates, devices, issuers, sealed_keys, keys`.execute(db);
}
