/**
 * API tokens: only a SHA-256 of each secret is kept, so the table alone lets nobody in. Made for an
 * executor (the database or an open transaction), so a rotation writes both rows in one transaction.
 */
import type { Insertable, Kysely } from "kysely";
import { checkSequenceCursor, pageLimit, sequencePage } from "./paging.js";
import type { ApiTokenRow, ApiTokensTable, Tables } from "./schema.js";

export interface TokenPage {
  readonly items: ApiTokenRow[];
  /** Pass back as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

export function tokenRepository(db: Kysely<Tables>) {
  return {
    async insert(token: Insertable<ApiTokensTable>): Promise<ApiTokenRow> {
      return db.insertInto("api_tokens").values(token).returningAll().executeTakeFirstOrThrow();
    },
    async bySecretHash(hash: Uint8Array): Promise<ApiTokenRow | undefined> {
      return db.selectFrom("api_tokens").selectAll().where("secret_hash", "=", hash).executeTakeFirst();
    },
    /** `lock`: inside a transaction, hold the row until it ends (revoke and rotate compare, then set). */
    async byId(id: string, lock = false): Promise<ApiTokenRow | undefined> {
      const q = db.selectFrom("api_tokens").selectAll().where("id", "=", id);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },
    /** Newest first, paged by key. */
    async list(options: { after?: string | undefined; limit?: number | undefined }): Promise<TokenPage> {
      const limit = pageLimit(options.limit);
      checkSequenceCursor(options.after);
      let q = db
        .selectFrom("api_tokens")
        .selectAll()
        .orderBy("seq", "desc")
        .limit(limit + 1);
      if (options.after !== undefined) q = q.where("seq", "<", options.after as never);
      return sequencePage(await q.execute(), limit);
    },
    async revoke(id: string, at: Date, replacedBy: string | null = null): Promise<void> {
      await db
        .updateTable("api_tokens")
        .set({ revoked_at: at, replaced_by: replacedBy })
        .where("id", "=", id)
        .execute();
    },
    async touch(id: string, at: Date): Promise<void> {
      await db.updateTable("api_tokens").set({ last_used_at: at }).where("id", "=", id).execute();
    },
    /** How many tokens have ever been revoked: only grows (tokens are never deleted), so it is an epoch. */
    async revokedCount(): Promise<number> {
      const row = await db
        .selectFrom("api_tokens")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("revoked_at", "is not", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
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
