/** Devices: enough for issuance to bind a certificate to a device; the registry extends it. */
import type { Insertable, Kysely } from "kysely";
import { pageLimit } from "./paging.js";
import type { DeviceRow, DevicesTable, Tables } from "./schema.js";

export function deviceRepository(db: Kysely<Tables>) {
  return {
    async insert(device: Insertable<DevicesTable>): Promise<DeviceRow> {
      return db.insertInto("devices").values(device).returningAll().executeTakeFirstOrThrow();
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
