/**
 * Key references are URIs (issue 18, DESIGN §6): a key's record names it as its store does,
 * `pkcs11:token=…;object=…;id=…` (RFC 7512) for a key in a token, `keyfleet-sealed:<id>` for one
 * in the software key store, so the key-store router finds the store by the scheme. PKCS#11 rows
 * already held their URI as the handle; software rows held the sealed key's id, which becomes the
 * URI's path. `store` stays: the sweeper claims only keys of the stores a process has configured.
 */
import { sql, type Kysely } from "kysely";

const statements = [
  sql`alter table keys rename column handle to uri`,
  sql`update keys set uri = 'keyfleet-sealed:' || uri where store = 'software'`,
  sql`alter table keys add constraint keys_uri_scheme check (
        (store = 'software' and uri like 'keyfleet-sealed:%') or (store = 'pkcs11' and uri like 'pkcs11:%'))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table keys drop constraint keys_uri_scheme`.execute(db);
  await sql`update keys set uri = substr(uri, length('keyfleet-sealed:') + 1) where store = 'software'`.execute(
    db,
  );
  await sql`alter table keys rename column uri to handle`.execute(db);
}
