/**
 * Idempotency keys belong to a scope (issue 13): a request id names a request within the scope of
 * the caller that sent it (the empty string for unscoped callers), so a tenant cannot find, or
 * collide with, another tenant's requests. The digest of everything a request asked for (its CSR's
 * certificationRequestInfo, profile, device, validity) lets a retry be told from a different request
 * that reuses the id. Rows from before this migration were made by unscoped callers' requests as far
 * as anyone can tell, and keep no digest.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table certificates add column request_scope text`.execute(db);
  await sql`alter table certificates add column request_digest bytea`.execute(db);
  await sql`update certificates set request_scope = '' where request_id is not null`.execute(db);
  await sql`alter table certificates drop constraint certificates_request_id_key`.execute(db);
  await sql`create unique index certificates_request on certificates (request_scope, request_id) where request_id is not null`.execute(
    db,
  );
  await sql`alter table certificates add constraint certificates_request_scoped check ((request_id is null) = (request_scope is null))`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table certificates drop constraint certificates_request_scoped`.execute(db);
  await sql`drop index certificates_request`.execute(db);
  await sql`alter table certificates add constraint certificates_request_id_key unique (request_id)`.execute(
    db,
  );
  await sql`alter table certificates drop column request_digest`.execute(db);
  await sql`alter table certificates drop column request_scope`.execute(db);
}
