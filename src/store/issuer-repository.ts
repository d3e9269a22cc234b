/** Certificate authorities and the metadata of their keys (never the keys themselves; recorded by key-repository.ts). */
import type { Insertable, Kysely } from "kysely";
import type { IssuerRow, IssuersTable, KeyRow, Tables } from "./schema.js";

export function issuerRepository(db: Kysely<Tables>) {
  return {
    async insertIssuer(tx: Kysely<Tables>, issuer: Insertable<IssuersTable>): Promise<void> {
      await tx.insertInto("issuers").values(issuer).execute();
    },
    async key(id: string): Promise<KeyRow | undefined> {
      return db.selectFrom("keys").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async byId(id: string): Promise<IssuerRow | undefined> {
      return db.selectFrom("issuers").selectAll().where("id", "=", id).executeTakeFirst();
    },
    /** The newest active CA of a kind: the one that signs now. */
    async current(kind: IssuerRow["kind"]): Promise<IssuerRow | undefined> {
      return db
        .selectFrom("issuers")
        .selectAll()
        .where("kind", "=", kind)
        .where("state", "=", "active")
        .orderBy("created_at", "desc")
        .orderBy("id")
        .executeTakeFirst();
    },
    /** Whether any CA exists, read through `tx` (under the hierarchy lock, see advisory-lock.ts). */
    async anyIn(tx: Kysely<Tables>): Promise<boolean> {
      return (await tx.selectFrom("issuers").select("id").limit(1).executeTakeFirst()) !== undefined;
    },
    /** The issuer, locked until the transaction `db` is ends (for a change of its row). */
    async lockedById(id: string): Promise<IssuerRow | undefined> {
      return db.selectFrom("issuers").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
    },

    async setCrlShards(id: string, shards: number): Promise<void> {
      await db.updateTable("issuers").set({ crl_shards: shards }).where("id", "=", id).execute();
    },

    async list(): Promise<IssuerRow[]> {
      return db.selectFrom("issuers").selectAll().orderBy("created_at").orderBy("id").execute();
    },
  };
}

export type IssuerRepository = ReturnType<typeof issuerRepository>;
