/** Certificates: written in groups (one multi-row insert per transaction), read by serial, listed by key. */
import { sql, type Kysely } from "kysely";
import { KeyfleetError } from "../domain/index.js";
import { pageLimit } from "./paging.js";
import type { CertificateRow, CertificateStatus, NewCertificate, Tables } from "./schema.js";

export interface CertificatePage {
  readonly items: CertificateRow[];
  /** Pass back as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

export interface CertificateQuery {
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
  readonly deviceId?: string | undefined;
  readonly issuerId?: string | undefined;
  /** Only certificates of devices with these attributes (a scoped token's view); values are alternatives. */
  readonly devicesWith?: { readonly tenant?: readonly string[]; readonly region?: readonly string[] };
}

/** A change of status for a device's certificates (a lifecycle transition's effect on credentials). */
export interface DeviceStatusChange {
  readonly deviceId: string;
  readonly from: readonly CertificateStatus[];
  readonly to: CertificateStatus;
  /** RFC 5280 reason name (certificateHold for a hold); null when a hold is lifted. */
  readonly reason: string | null;
  readonly at: Date;
  /** Only this certificate of the device. */
  readonly only?: string | undefined;
  /** Every certificate of the device but this one. */
  readonly except?: string | undefined;
}

export function certificateRepository(db: Kysely<Tables>) {
  return {
    /**
     * Inserts every row it can in one statement; a row that hits a unique constraint (request id,
     * serial, fingerprint) is skipped, and the caller learns which from the returned fingerprints.
     */
    async insertMany(tx: Kysely<Tables>, rows: readonly NewCertificate[]): Promise<Set<string>> {
      if (rows.length === 0) return new Set();
      const inserted = await tx
        .insertInto("certificates")
        .values(rows as NewCertificate[])
        .onConflict((oc) => oc.doNothing())
        .returning("fingerprint")
        .execute();
      return new Set(inserted.map((r) => Buffer.from(r.fingerprint).toString("hex")));
    },

    /** The certificate whose DER has this SHA-256 (a TLS client certificate, looked up as presented). */
    async byFingerprint(fingerprint: Uint8Array): Promise<CertificateRow | undefined> {
      return db
        .selectFrom("certificates")
        .selectAll()
        .where("fingerprint", "=", fingerprint)
        .executeTakeFirst();
    },

    async bySerial(serial: string): Promise<CertificateRow | undefined> {
      return db.selectFrom("certificates").selectAll().where("serial", "=", serial).executeTakeFirst();
    },

    /** The newest tls-server certificate of a key (SHA-256 of its SubjectPublicKeyInfo). */
    async newestTlsServer(publicKeySha256: Uint8Array): Promise<CertificateRow | undefined> {
      return (
        db
          .selectFrom("certificates")
          .selectAll()
          // A literal, not a parameter: PostgreSQL uses the partial index certificates_tls_server_key
          // (migration 0003) only when it can see the query's predicate implies the index's.
          .where("profile", "=", sql.lit("tls-server"))
          .where("public_key_sha256", "=", publicKeySha256)
          .orderBy("seq", "desc")
          .limit(1)
          .executeTakeFirst()
      );
    },

    /** Sets the status of the matching certificates of one device; returns which, by serial. */
    async setDeviceStatus(
      change: DeviceStatusChange,
    ): Promise<{ readonly issuerId: string; readonly serial: string }[]> {
      let q = db
        .updateTable("certificates")
        .set({
          status: change.to,
          revocation_reason: change.reason,
          revoked_at: change.to === "good" ? null : change.at,
          invalidity_date: null,
        })
        .where("device_id", "=", change.deviceId)
        .where("status", "in", [...change.from]);
      if (change.only !== undefined) q = q.where("serial", "=", change.only);
      if (change.except !== undefined) q = q.where("serial", "<>", change.except);
      const rows = await q.returning(["issuer_id", "serial"]).execute();
      return rows
        .map((r) => ({ issuerId: r.issuer_id, serial: r.serial }))
        .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
    },

    async ofDevice(deviceId: string, serial: string): Promise<CertificateRow | undefined> {
      return db
        .selectFrom("certificates")
        .selectAll()
        .where("device_id", "=", deviceId)
        .where("serial", "=", serial)
        .executeTakeFirst();
    },

    async byRequestId(scope: string, requestId: string): Promise<CertificateRow | undefined> {
      return db
        .selectFrom("certificates")
        .selectAll()
        .where("request_scope", "=", scope)
        .where("request_id", "=", requestId)
        .executeTakeFirst();
    },

    /**
     * Newest first. The cursor is the serial of the last certificate of the previous page: a value
     * the caller has seen, unlike the row sequence, whose gaps would count what others were issued
     * in between. It must be a certificate of the same listing (same filters, same scope).
     */
    async list(query: CertificateQuery): Promise<CertificatePage> {
      const limit = pageLimit(query.limit);
      const filtered = () => {
        let q = db.selectFrom("certificates");
        if (query.deviceId !== undefined) q = q.where("device_id", "=", query.deviceId);
        if (query.issuerId !== undefined) q = q.where("issuer_id", "=", query.issuerId);
        const { tenant, region } = query.devicesWith ?? {};
        if (tenant?.length || region?.length) {
          q = q.where("device_id", "in", (eb) => {
            let devices = eb.selectFrom("devices").select("id");
            if (tenant?.length) devices = devices.where("tenant", "in", [...tenant]);
            if (region?.length) devices = devices.where("region", "in", [...region]);
            return devices;
          });
        }
        return q;
      };
      let q = filtered()
        .selectAll()
        .orderBy("seq", "desc")
        .limit(limit + 1);
      if (query.after !== undefined) {
        const cursor = await filtered().select("seq").where("serial", "=", query.after).executeTakeFirst();
        if (!cursor) {
          throw new KeyfleetError(
            "malformed-request",
            "after must be the `next` cursor of an earlier page of this list",
          );
        }
        q = q.where("seq", "<", cursor.seq as never);
      }
      const rows = await q.execute();
      const items = rows.slice(0, limit);
      return { items, next: rows.length > limit ? items[items.length - 1]!.serial : undefined };
    },

    async count(): Promise<number> {
      const row = await db
        .selectFrom("certificates")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type CertificateRepository = ReturnType<typeof certificateRepository>;
