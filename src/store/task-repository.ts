/** Scheduled tasks' rows: claiming a due run, and recording how it went. */
import type { Kysely } from "kysely";
import type { Tables } from "./schema.js";

export function taskRepository(db: Kysely<Tables>) {
  return {
    /**
     * Claims the task's run if it is due (or `force`): locks its row without waiting for another
     * node that holds it, and moves `due_at` to `next`, inside `tx` (short: the run happens after
     * it commits). False when not due or claimed elsewhere.
     */
    async claim(tx: Kysely<Tables>, name: string, now: Date, next: Date, force: boolean): Promise<boolean> {
      await tx
        .insertInto("scheduled_tasks")
        .values({ name, due_at: now })
        .onConflict((oc) => oc.column("name").doNothing())
        .execute();
      let q = tx.selectFrom("scheduled_tasks").select("name").where("name", "=", name);
      if (!force) q = q.where("due_at", "<=", now);
      const row = await q.forUpdate().skipLocked().executeTakeFirst();
      if (!row) return false;
      await tx.updateTable("scheduled_tasks").set({ due_at: next }).where("name", "=", name).execute();
      return true;
    },

    async finished(name: string, at: Date, error: string | null): Promise<void> {
      await db
        .updateTable("scheduled_tasks")
        .set({ last_run_at: at, last_error: error })
        .where("name", "=", name)
        .execute();
    },

    async get(name: string) {
      return db.selectFrom("scheduled_tasks").selectAll().where("name", "=", name).executeTakeFirst();
    },
  };
}

export type TaskRepository = ReturnType<typeof taskRepository>;
