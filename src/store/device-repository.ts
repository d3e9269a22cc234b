/**
 * Devices. Made for an executor (the database or an open transaction): a lifecycle transition
 * locks the row, and writes its next state under a compare-and-set on the version it read.
 */
import type { Insertable, Kysely } from "kysely";
import type { DeviceLifecycle } from "../domain/index.js";
import { duplicateAsConflict } from "./driver-errors.js";
import { pageLimit } from "./paging.js";
import type { DeviceRow, DevicesTable, Tables } from "./schema.js";

export function deviceRepository(db: Kysely<Tables>) {
  return {
    /** `conflict` if the tenant already has a device with this serial. */
    async insert(device: Insertable<DevicesTable>): Promise<DeviceRow> {
      try {
        return await db.insertInto("devices").values(device).returningAll().executeTakeFirstOrThrow();
      } catch (e) {
        throw duplicateAsConflict(
          e,
          `a device with serial "${device.serial_number}" is already registered in tenant "${device.tenant ?? "default"}"`,
        );
      }
    },
    /** `lock`: inside a transaction, hold the row until it ends (a transition reads, decides, writes). */
    async byId(id: string, lock = false): Promise<DeviceRow | undefined> {
      const q = db.selectFrom("devices").selectAll().where("id", "=", id);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },
    /** Locks these rows until the transaction ends (callers pass ids sorted, so lockers never cycle). */
    async lockAll(ids: readonly string[]): Promise<void> {
      await db
        .selectFrom("devices")
        .select("id")
        .where("id", "in", [...ids])
        .orderBy("id")
        .forUpdate()
        .execute();
    },
    /** Writes a transition's outcome if the row is still at `fromVersion`; false if it moved on. */
    async setLifecycle(id: string, fromVersion: number, next: DeviceLifecycle, at: Date): Promise<boolean> {
      const result = await db
        .updateTable("devices")
        .set({
          state: next.state,
          version: next.version,
          successor_serial: next.successor,
          grace_until: next.graceUntil,
          updated_at: at,
        })
        .where("id", "=", id)
        .where("version", "=", fromVersion)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    /** A device whose hardware serial is one of these, in any tenant; undefined if none. */
    async withSerial(serials: readonly string[]): Promise<DeviceRow | undefined> {
      if (serials.length === 0) return undefined;
      return db
        .selectFrom("devices")
        .selectAll()
        .where("serial_number", "in", [...serials])
        .limit(1)
        .executeTakeFirst();
    },
    /** By id; `scope` keeps to devices with these attributes (values of one key are alternatives). */
    async list(options: {
      after?: string | undefined;
      limit?: number | undefined;
      scope?: Readonly<Record<string, readonly string[]>> | undefined;
    }): Promise<DeviceRow[]> {
      let q = db.selectFrom("devices").selectAll().orderBy("id").limit(pageLimit(options.limit));
      if (options.after !== undefined) q = q.where("id", ">", options.after);
      const { tenant, region } = options.scope ?? {};
      if (tenant?.length) q = q.where("tenant", "in", [...tenant]);
      if (region?.length) q = q.where("region", "in", [...region]);
      return q.execute();
    },
  };
}

export type DeviceRepository = ReturnType<typeof deviceRepository>;
