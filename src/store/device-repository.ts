/** Devices: enough for issuance to bind a certificate to a device; the registry extends it. */
import type { Insertable, Kysely } from "kysely";
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
    async byId(id: string): Promise<DeviceRow | undefined> {
      return db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();
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
    async list(options: { after?: string | undefined; limit?: number | undefined }): Promise<DeviceRow[]> {
      let q = db.selectFrom("devices").selectAll().orderBy("id").limit(pageLimit(options.limit));
      if (options.after !== undefined) q = q.where("id", ">", options.after);
      return q.execute();
    },
  };
}

export type DeviceRepository = ReturnType<typeof deviceRepository>;
