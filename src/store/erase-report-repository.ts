/** Erase reports (migration 0023): what a decommissioning device signed when it destroyed its key. */
import type { Kysely } from "kysely";
import type { EraseReportRow, Tables } from "./schema.js";

export function eraseReportRepository(db: Kysely<Tables>) {
  return {
    async insert(report: Omit<EraseReportRow, "audit_index"> & { audit_index: number }): Promise<void> {
      await db.insertInto("erase_reports").values(report).execute();
    },

    /** A device's reports, oldest first (a device reports once; a handful at most). */
    ofDevice(deviceId: string): Promise<EraseReportRow[]> {
      return db
        .selectFrom("erase_reports")
        .selectAll()
        .where("device_id", "=", deviceId)
        .orderBy("reported_at")
        .orderBy("id")
        .limit(16)
        .execute();
    },
  };
}
