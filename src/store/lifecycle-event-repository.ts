/** Lifecycle events: one row per transition of a device, with its evidence; a device's history. */
import type { Insertable, Kysely } from "kysely";
import { checkSequenceCursor, pageLimit, sequencePage } from "./paging.js";
import type { LifecycleEventRow, LifecycleEventsTable, Tables } from "./schema.js";

export function lifecycleEventRepository(db: Kysely<Tables>) {
  return {
    /** The events in one statement, in order; the rows as written. */
    async insertMany(events: readonly Insertable<LifecycleEventsTable>[]): Promise<LifecycleEventRow[]> {
      if (events.length === 0) return [];
      return db
        .insertInto("lifecycle_events")
        .values([...events])
        .returningAll()
        .execute();
    },
    async byIdempotencyKey(deviceId: string, key: string): Promise<LifecycleEventRow | undefined> {
      return db
        .selectFrom("lifecycle_events")
        .selectAll()
        .where("device_id", "=", deviceId)
        .where("idempotency_key", "=", key)
        .executeTakeFirst();
    },
    /** Oldest first, paged by the row sequence. */
    async history(
      deviceId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<{ items: LifecycleEventRow[]; next: string | undefined }> {
      const limit = pageLimit(options.limit);
      checkSequenceCursor(options.after);
      let q = db
        .selectFrom("lifecycle_events")
        .selectAll()
        .where("device_id", "=", deviceId)
        .orderBy("seq")
        .limit(limit + 1);
      if (options.after !== undefined) q = q.where("seq", ">", options.after as never);
      return sequencePage(await q.execute(), limit);
    },
  };
}

export type LifecycleEventRepository = ReturnType<typeof lifecycleEventRepository>;
