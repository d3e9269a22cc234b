/**
 * Keys that are not a CA's (the HTTPS server's own TLS key): their metadata by purpose. The key
 * itself is in its store; a row here records that it exists and whether it is still in use.
 */
import type { Insertable, Kysely } from "kysely";
import type { KeyRow, KeysTable, Tables } from "./schema.js";

export function keyRepository(db: Kysely<Tables>) {
  return {
    async insert(key: Insertable<KeysTable>): Promise<void> {
      await db.insertInto("keys").values(key).execute();
    },

    /** Active keys of a purpose in one store, newest first (a handful: older ones are destroyed). */
    async active(purpose: string, store: string): Promise<KeyRow[]> {
      return db
        .selectFrom("keys")
        .selectAll()
        .where("purpose", "=", purpose)
        .where("store", "=", store)
        .where("state", "=", "active")
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
    },

    /** Records that a key is gone; the caller destroys it in its store. */
    async markDestroyed(id: string, at: Date): Promise<void> {
      await db
        .updateTable("keys")
        .set({ state: "destroyed", destroyed_at: at })
        .where("id", "=", id)
        .where("state", "=", "active")
        .execute();
    },
  };
}

export type KeyRepository = ReturnType<typeof keyRepository>;
