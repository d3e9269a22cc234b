/**
 * Manufacturers and their CA certificates (append-style: rows are added, never changed). A name
 * or a certificate already there is `conflict`, named, not a driver error.
 */
import type { Insertable, Kysely } from "kysely";
import { KeyfleetError, quoted } from "../domain/index.js";
import type {
  ManufacturerCertificateRow,
  ManufacturerCertificatesTable,
  ManufacturerRow,
  ManufacturersTable,
  Tables,
} from "./schema.js";

export function manufacturerRepository(db: Kysely<Tables>) {
  return {
    async insert(row: Insertable<ManufacturersTable>): Promise<ManufacturerRow> {
      const done = await db
        .insertInto("manufacturers")
        .values(row)
        .onConflict((oc) => oc.column("name").doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!done)
        throw new KeyfleetError("conflict", `a manufacturer named ${quoted(row.name)} is already registered`);
      return done;
    },
    async addCertificate(
      row: Insertable<ManufacturerCertificatesTable>,
    ): Promise<ManufacturerCertificateRow> {
      const done = await db
        .insertInto("manufacturer_certificates")
        .values(row)
        .onConflict((oc) => oc.columns(["manufacturer_id", "fingerprint_sha256"]).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!done) {
        throw new KeyfleetError(
          "conflict",
          `this manufacturer already has the CA certificate with SHA-256 ${row.fingerprint_sha256}`,
        );
      }
      return done;
    },
    byId: (id: string) => db.selectFrom("manufacturers").selectAll().where("id", "=", id).executeTakeFirst(),
    byName: (name: string) =>
      db.selectFrom("manufacturers").selectAll().where("name", "=", name).executeTakeFirst(),
    /** By name, after `after`. */
    list: (options: { after?: string | undefined; limit: number }) => {
      let q = db.selectFrom("manufacturers").selectAll().orderBy("name").limit(options.limit);
      if (options.after !== undefined) q = q.where("name", ">", options.after);
      return q.execute();
    },
    /** A manufacturer's CA certificates, oldest first (a manufacturer holds a handful). */
    certificates: (manufacturerId: string) =>
      db
        .selectFrom("manufacturer_certificates")
        .selectAll()
        .where("manufacturer_id", "=", manufacturerId)
        .orderBy("added_at")
        .orderBy("fingerprint_sha256")
        .execute(),
  };
}

export type ManufacturerRepository = ReturnType<typeof manufacturerRepository>;
