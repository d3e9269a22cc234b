/** Policy versions: appended under the policy lock, numbered from 1, never changed. */
import type { Kysely, Selectable } from "kysely";
import { holdLock } from "./advisory-lock.js";
import { pageLimit } from "./paging.js";
import type { PolicyVersionsTable, Tables } from "./schema.js";

export type PolicyVersionRow = Selectable<PolicyVersionsTable>;

export function policyRepository(db: Kysely<Tables>) {
  return {
    /** The newest version's number, 0 when none was ever applied. */
    async latestVersion(): Promise<number> {
      const row = await db
        .selectFrom("policy_versions")
        .select((eb) => eb.fn.max("version").as("version"))
        .executeTakeFirst();
      return row?.version ?? 0;
    },

    async byVersion(version: number): Promise<PolicyVersionRow | undefined> {
      return db.selectFrom("policy_versions").selectAll().where("version", "=", version).executeTakeFirst();
    },

    /**
     * Appends the next version inside `db` (a transaction), unless the latest already holds this
     * very document (then that one, and `appended` false). The lock makes concurrent applies take
     * turns, so each gets the number after the one it saw.
     */
    async append(
      row: Omit<PolicyVersionRow, "version" | "created_at">,
    ): Promise<{ row: PolicyVersionRow; appended: boolean }> {
      await holdLock(db, "policy");
      const latest = await this.byVersion(await this.latestVersion());
      if (latest && Buffer.from(latest.sha256).equals(row.sha256)) return { row: latest, appended: false };
      const appended = await db
        .insertInto("policy_versions")
        .values({ ...row, version: (latest?.version ?? 0) + 1 })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row: appended, appended: true };
    },

    /** Versions newest first, before `before` when given. */
    async history(options: { before?: number | undefined; limit?: number | undefined }) {
      const limit = pageLimit(options.limit);
      let query = db
        .selectFrom("policy_versions")
        .select(["version", "sha256", "comment", "created_by", "created_at"])
        .orderBy("version", "desc")
        .limit(limit + 1);
      if (options.before !== undefined) query = query.where("version", "<", options.before);
      const rows = await query.execute();
      const items = rows.slice(0, limit);
      return { items, next: rows.length > limit ? items[items.length - 1]!.version : undefined };
    },
  };
}

export type PolicyRepository = ReturnType<typeof policyRepository>;
