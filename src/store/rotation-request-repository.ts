/** Rotation requests (migration 0025): one per device, made for an executor (a job's page transaction). */
import type { Insertable, Kysely } from "kysely";
import type { RotationRequestRow, RotationRequestsTable, Tables } from "./schema.js";

export function rotationRequestRepository(db: Kysely<Tables>) {
  return {
    /** Records the request; a later one for the same device replaces it. */
    async put(request: Insertable<RotationRequestsTable>): Promise<void> {
      await db
        .insertInto("rotation_requests")
        .values(request)
        .onConflict((oc) =>
          oc.column("device_id").doUpdateSet((eb) => ({
            job_id: eb.ref("excluded.job_id"),
            requested_by: eb.ref("excluded.requested_by"),
            reason: eb.ref("excluded.reason"),
            requested_at: eb.ref("excluded.requested_at"),
            renew_at: eb.ref("excluded.renew_at"),
            audit_index: eb.ref("excluded.audit_index"),
          })),
        )
        .execute();
    },
    ofDevice(deviceId: string): Promise<RotationRequestRow | undefined> {
      return db
        .selectFrom("rotation_requests")
        .selectAll()
        .where("device_id", "=", deviceId)
        .executeTakeFirst();
    },
    /** Satisfied: the devices' rotations committed. */
    async clear(deviceIds: readonly string[]): Promise<void> {
      if (deviceIds.length === 0) return;
      await db.deleteFrom("rotation_requests").where("device_id", "in", deviceIds).execute();
    },
  };
}
