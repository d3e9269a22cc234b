/**
 * The OCSP responder (issue 17): each issuing CA's delegated responder certificate is found by its
 * newest row, so a responder (re)loading its identity reads one index entry, not the whole table.
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index certificates_ocsp_responder on certificates (issuer_id, seq) where profile = 'ocsp-responder'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index certificates_ocsp_responder`.execute(db);
}
