/** API tokens: only a SHA-256 of each secret is kept, so the table alone lets nobody in. */
import type { Insertable, Kysely } from "kysely";
import type { ApiTokenRow, ApiTokensTable, Tables } from "./schema.js";

export function tokenRepository(db: Kysely<Tables>) {
  return {
    async insert(token: Insertable<ApiTokensTable>): Promise<void> {
      await db.insertInto("api_tokens").values(token).execute();
    },
    async bySecretHash(hash: Uint8Array): Promise<ApiTokenRow | undefined> {
      return db.selectFrom("api_tokens").selectAll().where("secret_hash", "=", hash).executeTakeFirst();
    },
    async count(): Promise<number> {
      const row = await db
        .selectFrom("api_tokens")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type TokenRepository = ReturnType<typeof tokenRepository>;
