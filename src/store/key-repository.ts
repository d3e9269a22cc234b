/**
 * Keys' metadata by purpose (the HTTPS server's TLS key, the audit log's key) and their custody
 * (migration 0017: `generated` before first use, `active` once established, `destroying` while the
 * sweeper destroys one never established). The key itself is in its store; a row here records
 * that it exists and whether it is still in use.
 */
import type { Insertable, Kysely } from "kysely";
import type { KeyRow, KeysTable, Tables } from "./schema.js";

export function keyRepository(db: Kysely<Tables>) {
  return {
    async insert(key: Insertable<KeysTable>): Promise<void> {
      await db.insertInto("keys").values(key).execute();
    },

    /** Active keys of a purpose, in whichever store, newest first (a handful: older ones are destroyed). */
    async active(purpose: string): Promise<KeyRow[]> {
      return db
        .selectFrom("keys")
        .selectAll()
        .where("purpose", "=", purpose)
        .where("state", "=", "active")
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
    },

    /** Records a key just generated, before anything uses it: `generated` since `at`. */
    async insertGenerated(key: Omit<Insertable<KeysTable>, "state" | "created_at">, at: Date): Promise<void> {
      await db
        .insertInto("keys")
        .values({ ...key, state: "generated", created_at: at })
        .execute();
    },

    /** In the transaction that establishes the key: `generated` → `active`; false if it was not `generated`. */
    async activate(tx: Kysely<Tables>, id: string): Promise<boolean> {
      const rows = await tx
        .updateTable("keys")
        .set({ state: "active" })
        .where("id", "=", id)
        .where("state", "=", "generated")
        .returning("id")
        .execute();
      return rows.length > 0;
    },

    /**
     * Claims up to `limit` keys of `stores` (those this process can destroy) never established, after `after` in id order, and marks them
     * `destroying` so that nothing can activate them any more: those `generated` at or before
     * `generatedBefore`, and those a destruction that did not finish left `destroying`. Rows another
     * transaction holds are skipped (FOR UPDATE SKIP LOCKED).
     */
    async claimUnestablished(
      tx: Kysely<Tables>,
      stores: readonly string[],
      generatedBefore: Date,
      after: string,
      limit: number,
    ): Promise<KeyRow[]> {
      const rows = await tx
        .updateTable("keys")
        .set({ state: "destroying" })
        .where("id", "in", (eb) =>
          eb
            .selectFrom("keys")
            .select("id")
            .where((w) =>
              w.or([
                w.and([w("state", "=", "generated"), w("created_at", "<=", generatedBefore)]),
                w("state", "=", "destroying"),
              ]),
            )
            .where("store", "in", stores)
            .where("id", ">", after)
            .orderBy("id")
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .execute();
      return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    },

    /** Claims these keys, if still `generated`, for destruction (as `claimUnestablished` does). */
    async claimGenerated(tx: Kysely<Tables>, ids: readonly string[]): Promise<KeyRow[]> {
      if (ids.length === 0) return [];
      return tx
        .updateTable("keys")
        .set({ state: "destroying" })
        .where("id", "in", ids)
        .where("state", "=", "generated")
        .returningAll()
        .execute();
    },

    /** Records that a claimed key is gone from its store; false if another sweeper recorded it first. */
    async destroyedIn(tx: Kysely<Tables>, id: string, at: Date): Promise<boolean> {
      const rows = await tx
        .updateTable("keys")
        .set({ state: "destroyed", destroyed_at: at })
        .where("id", "=", id)
        .where("state", "=", "destroying")
        .returning("id")
        .execute();
      return rows.length > 0;
    },

    /** A key's record, if any. */
    async byId(id: string): Promise<KeyRow | undefined> {
      return db.selectFrom("keys").selectAll().where("id", "=", id).executeTakeFirst();
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
