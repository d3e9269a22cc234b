/** Bulk jobs and their per-device items (migration 0010). Made for an executor. */
import type { Insertable, Kysely } from "kysely";
import { checkSequenceCursor, pageLimit, sequencePage } from "./paging.js";
import type { BulkJobItemsTable, BulkJobRow, BulkJobsTable, Tables } from "./schema.js";

export function bulkJobRepository(db: Kysely<Tables>) {
  return {
    async insert(job: Insertable<BulkJobsTable>): Promise<BulkJobRow> {
      return db.insertInto("bulk_jobs").values(job).returningAll().executeTakeFirstOrThrow();
    },
    async byId(id: string): Promise<BulkJobRow | undefined> {
      return db.selectFrom("bulk_jobs").selectAll().where("id", "=", id).executeTakeFirst();
    },
    /** The job's row, locked, if it is running and no other worker holds it. */
    async claim(id: string): Promise<BulkJobRow | undefined> {
      return db
        .selectFrom("bulk_jobs")
        .selectAll()
        .where("id", "=", id)
        .where("state", "=", "running")
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
    },
    async running(limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom("bulk_jobs")
        .select("id")
        .where("state", "=", "running")
        .orderBy("seq")
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
    /** Newest first. */
    async list(options: { after?: string | undefined; limit?: number | undefined }) {
      const limit = pageLimit(options.limit);
      checkSequenceCursor(options.after);
      let q = db
        .selectFrom("bulk_jobs")
        .selectAll()
        .orderBy("seq", "desc")
        .limit(limit + 1);
      if (options.after !== undefined) q = q.where("seq", "<", options.after as never);
      return sequencePage(await q.execute(), limit);
    },
    /** Records a device's item; false if the job already has one for it (it was done before). */
    async addItem(item: Insertable<BulkJobItemsTable>): Promise<boolean> {
      const row = await db
        .insertInto("bulk_job_items")
        .values(item)
        .onConflict((oc) => oc.columns(["job_id", "device_id"]).doNothing())
        .returning("device_id")
        .executeTakeFirst();
      return row !== undefined;
    },
    async refuseItem(jobId: string, deviceId: string, code: string, message: string): Promise<void> {
      await db
        .updateTable("bulk_job_items")
        .set({ outcome: "refused", code, message })
        .where("job_id", "=", jobId)
        .where("device_id", "=", deviceId)
        .execute();
    },
    /** Adds a page's outcomes to the job's counters, moves its cursor past the page, keeps its pacing. */
    async progress(
      id: string,
      counts: { applied: number; refused: number },
      cursor: string,
      at: Date,
      pacing: { from: Date | null; paced: number },
    ): Promise<void> {
      await db
        .updateTable("bulk_jobs")
        .set((eb) => ({
          applied: eb("applied", "+", counts.applied),
          refused: eb("refused", "+", counts.refused),
          cursor,
          updated_at: at,
          paced_from: pacing.from,
          paced: pacing.paced,
        }))
        .where("id", "=", id)
        .execute();
    },
    async finish(id: string, at: Date): Promise<void> {
      await db.updateTable("bulk_jobs").set({ state: "done", updated_at: at }).where("id", "=", id).execute();
    },
    async refusedItems(id: string, limit: number) {
      return db
        .selectFrom("bulk_job_items")
        .selectAll()
        .where("job_id", "=", id)
        .where("outcome", "=", "refused")
        .orderBy("device_id")
        .limit(limit)
        .execute();
    },
  };
}

export type BulkJobRepository = ReturnType<typeof bulkJobRepository>;
