/**
 * The audit log (issue 14): an RFC 9162 Merkle tree. Leaves hold each entry's canonical JSON, the
 * exact bytes whose SHA-256(0x00 ‖ bytes) is the leaf hash, and that hash; nodes hold the hash of
 * every perfect subtree of four leaves or more (level ≥ 2; a pair is two leaf hashes away), so a
 * proof reads O(log n) rows; the head holds the size and
 * the frontier (the perfect subtrees of the whole tree, largest first) under a row lock that makes
 * appends one sequence without gaps; checkpoints hold the signed tree heads. The database itself
 * refuses to change or remove what was appended: UPDATE, DELETE and TRUNCATE raise on the leaf,
 * node and checkpoint tables (a superuser can still disable the triggers; `keyfleet audit verify`
 * is what catches that).
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table audit_leaves (
    idx        bigint primary key check (idx >= 0),
    entry      text not null,
    hash       bytea not null check (length(hash) = 32),
    subject    text not null,
    created_at timestamptz not null default now()
  )`.execute(db);
  // Proof by subject (a certificate's serial, a token's id): its leaves in order.
  await sql`create index audit_leaves_subject on audit_leaves (subject, idx)`.execute(db);
  await sql`create table audit_nodes (
    level smallint not null check (level between 2 and 62),
    idx   bigint not null check (idx >= 0),
    hash  bytea not null check (length(hash) = 32),
    primary key (level, idx)
  )`.execute(db);
  await sql`create table audit_head (
    id       boolean primary key default true check (id),
    size     bigint not null check (size >= 0),
    frontier bytea not null check (length(frontier) % 32 = 0)
  )`.execute(db);
  await sql`insert into audit_head (size, frontier) values (0, ''::bytea)`.execute(db);
  await sql`create table audit_checkpoints (
    size       bigint primary key check (size >= 0),
    root       bytea not null check (length(root) = 32),
    note       text not null,
    created_at timestamptz not null default now()
  )`.execute(db);
  await sql`create function audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'the audit log is append-only: % on % refused', tg_op, tg_table_name
        using errcode = 'P0001';
    end
  $$`.execute(db);
  for (const table of ["audit_leaves", "audit_nodes", "audit_checkpoints"]) {
    await sql
      .raw(
        `create trigger ${table}_append_only before update or delete on ${table} for each row execute function audit_append_only()`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function audit_append_only()`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table audit_checkpoints, audit_head, audit_nodes, audit_leaves`.execute(db);
  await sql`drop function audit_append_only()`.execute(db);
}
