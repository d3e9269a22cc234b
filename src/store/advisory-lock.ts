/**
 * Work that must happen once however many nodes attempt it at the same moment (creating the CA
 * hierarchy, the first admin token) runs in a transaction that first takes a transaction-scoped
 * advisory lock (pg_advisory_xact_lock, released at commit or rollback) and then checks, under the
 * lock, whether the work is still to do. The key includes the schema, so deployments (and test
 * runs) in different schemas of one database do not wait on each other.
 */
import { sql, type Kysely } from "kysely";
import type { Tables } from "./schema.js";

export type LockName = "hierarchy" | "first-admin-token" | "audit-key" | "policy";

export async function holdLock(tx: Kysely<Tables>, name: LockName): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ${`:keyfleet:${name}`}))`.execute(tx);
}
