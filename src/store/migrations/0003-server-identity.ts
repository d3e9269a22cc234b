/**
 * The HTTPS server's own identity is reused across starts (issue 12): at every start and renewal
 * check the server looks up the newest tls-server certificate of its key. A partial index keeps
 * that lookup off the fleet's device certificates; it holds tls-server rows only, so issuing device
 * certificates does not pay for it. Numbered 0003: 0002 is taken on main (settings).
 */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index certificates_tls_server_key on certificates (public_key_sha256, seq) where profile = 'tls-server'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index certificates_tls_server_key`.execute(db);
}
