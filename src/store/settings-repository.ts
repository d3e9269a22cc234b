/** Authority settings (one row per key) and the history of every change to them. */
import type { Kysely } from "kysely";
import type { Tables } from "./schema.js";

export interface SettingChange {
  readonly key: string;
  readonly oldValue: string | null;
  readonly newValue: string;
  readonly actor: string;
  readonly changedAt: Date;
}

export function settingsRepository(db: Kysely<Tables>) {
  return {
    async get(key: string): Promise<string | undefined> {
      const row = await db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
      return row?.value;
    },

    /** Sets a value and records the change, inside the caller's transaction; returns the old value. */
    async set(tx: Kysely<Tables>, key: string, value: string, actor: string): Promise<string | null> {
      const old = await tx
        .selectFrom("settings")
        .select("value")
        .where("key", "=", key)
        .forUpdate()
        .executeTakeFirst();
      await tx
        .insertInto("settings")
        .values({ key, value, updated_by: actor })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({ value, updated_by: actor, updated_at: new Date() }),
        )
        .execute();
      await tx
        .insertInto("setting_changes")
        .values({ key, old_value: old?.value ?? null, new_value: value, actor })
        .execute();
      return old?.value ?? null;
    },

    /** The changes to one key, newest first. */
    async history(key: string, limit = 50): Promise<SettingChange[]> {
      const rows = await db
        .selectFrom("setting_changes")
        .selectAll()
        .where("key", "=", key)
        .orderBy("seq", "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        key: r.key,
        oldValue: r.old_value,
        newValue: r.new_value,
        actor: r.actor,
        changedAt: r.changed_at,
      }));
    },
  };
}

export type SettingsRepository = ReturnType<typeof settingsRepository>;
