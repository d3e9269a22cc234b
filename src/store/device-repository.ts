/**
 * Devices. Made for an executor (the database or an open transaction): a lifecycle transition
 * locks the row, and writes its next state under a compare-and-set on the version it read.
 */
import { createHash } from "node:crypto";
import { sql, type Insertable, type Kysely, type SelectQueryBuilder } from "kysely";
import { KeyfleetError, type DeviceLifecycle, type DeviceState } from "../domain/index.js";
import { hexCell, jsonRows } from "./json-rows.js";
import { pageLimit } from "./paging.js";
import type { DeviceRow, DevicesTable, Tables } from "./schema.js";

export function deviceRepository(db: Kysely<Tables>) {
  return {
    /**
     * Inserts every row in one statement (one jsonb parameter, not ten per row:
     * json-rows.ts). A row whose serial, IDevID or IDevID public key a device already holds
     * (migration 0018's unique indexes, decommissioned devices included) goes in as none: the first
     * such row comes back as a collision with the device holding it, and the transaction is then to
     * be rolled back (the other rows went in). Otherwise the rows as stored: what was given, the
     * column defaults, and the transaction's time as created/updated.
     */
    async insertMany(
      rows: readonly NewDevice[],
    ): Promise<{ stored: DeviceRow[] } | { collision: Collision }> {
      if (rows.length === 0) return { stored: [] };
      const cells = rows.map((r) => [
        r.id,
        r.serial_number,
        r.model ?? null,
        r.manufacturer ?? null,
        r.tenant ?? "default",
        r.region ?? null,
        hexCell(r.idevid),
        r.firmware_version ?? null,
        r.groups ?? "[]",
        r.labels ?? "{}",
        hexCell(r.public_key_sha256),
      ]);
      const done = await sql<{ id: string }>`
        insert into devices (id, serial_number, model, manufacturer, tenant, region, idevid, firmware_version, groups, labels, public_key_sha256)
        select r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, decode(r->>6, 'hex'), r->>7, (r->>8)::jsonb, (r->>9)::jsonb, decode(r->>10, 'hex')
        from ${jsonRows(cells)}
        on conflict do nothing
        returning id`.execute(db);
      if (done.rows.length < rows.length) {
        const ids = new Set(done.rows.map((d) => d.id));
        const at = rows.findIndex((r) => !ids.has(r.id));
        return { collision: await collisionOf(db, at, rows[at]!) };
      }
      // The columns' defaults (migrations 0001, 0008, 0009); created_at and updated_at default to
      // now(), the transaction's start, read once rather than parsed back from every row.
      const {
        rows: [{ now }],
      } = (await sql<{ now: Date }>`select now() as now`.execute(db)) as { rows: [{ now: Date }] };
      return {
        stored: rows.map((r) => ({
          id: r.id,
          serial_number: r.serial_number,
          model: r.model ?? null,
          manufacturer: r.manufacturer ?? null,
          tenant: r.tenant ?? "default",
          region: r.region ?? null,
          state: "registered",
          idevid: r.idevid ?? null,
          idevid_sha256: r.idevid ? sha256(r.idevid) : null,
          public_key_sha256: r.public_key_sha256 ?? null,
          version: 1,
          created_at: now,
          updated_at: now,
          successor_serial: null,
          grace_until: null,
          firmware_version: r.firmware_version ?? null,
          groups: r.groups === undefined ? [] : (JSON.parse(r.groups) as string[]),
          labels: r.labels === undefined ? {} : (JSON.parse(r.labels) as Record<string, string>),
        })),
      };
    },
    /** `lock`: inside a transaction, hold the row until it ends (a transition reads, decides, writes). */
    async byId(id: string, lock = false): Promise<DeviceRow | undefined> {
      const q = db.selectFrom("devices").selectAll().where("id", "=", id);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },
    /** These devices, locked until the transaction ends when `lock` (ids sorted, as lockAll wants them). */
    async byIds(ids: readonly string[], lock = false): Promise<DeviceRow[]> {
      if (ids.length === 0) return [];
      const q = db
        .selectFrom("devices")
        .selectAll()
        .where("id", "in", [...ids])
        .orderBy("id");
      return (lock ? q.forUpdate() : q).execute();
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
    /**
     * setLifecycle for many devices in one statement (one row each): how many were still at their
     * `fromVersion` and so were written.
     */
    async setLifecycleMany(
      changes: readonly { id: string; fromVersion: number; next: DeviceLifecycle }[],
      at: Date,
    ): Promise<number> {
      if (changes.length === 0) return 0;
      const rows = changes.map((c) => [
        c.id,
        c.fromVersion,
        c.next.state,
        c.next.version,
        c.next.successor,
        c.next.graceUntil?.toISOString() ?? null,
      ]);
      const result = await sql`
        update devices set state = r->>2, version = (r->>3)::integer, successor_serial = r->>4,
          grace_until = (r->>5)::timestamptz, updated_at = ${at}
        from ${jsonRows(rows)}
        where devices.id = r->>0 and devices.version = (r->>1)::integer`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
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
    /** The device whose IDevID has this SHA-256 (of its DER), decommissioned or not. */
    async withIdevidSha256(digest: Uint8Array): Promise<DeviceRow | undefined> {
      return db.selectFrom("devices").selectAll().where("idevid_sha256", "=", digest).executeTakeFirst();
    },
    /** How many devices match the filters (paging ignored), counting at most `upTo + 1`. */
    async count(options: DeviceQuery, upTo: number): Promise<number> {
      const matching = filtered(db.selectFrom("devices").select("id"), options).limit(upTo + 1);
      const row = await db
        .selectFrom(matching.as("m"))
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** By id, after `after`, matching every filter given. */
    async list(options: DeviceQuery): Promise<DeviceRow[]> {
      let q = filtered(db.selectFrom("devices").selectAll(), options)
        .orderBy("id")
        .limit(pageLimit(options.limit));
      if (options.after !== undefined) q = q.where("id", ">", options.after);
      return q.execute();
    },
  };
}

/** The filters of a DeviceQuery (not its paging), on a query over devices. */
function filtered<Q extends SelectQueryBuilder<Tables, "devices", object>>(
  query: Q,
  options: DeviceQuery,
): Q {
  let q = query as SelectQueryBuilder<Tables, "devices", object>;
  const { tenant, region } = options.scope ?? {};
  if (tenant?.length) q = q.where("tenant", "in", [...tenant]);
  if (region?.length) q = q.where("region", "in", [...region]);
  if (options.state !== undefined) q = q.where("state", "=", options.state);
  if (options.tenant !== undefined) q = q.where("tenant", "=", options.tenant);
  if (options.region !== undefined) q = q.where("region", "=", options.region);
  if (options.model !== undefined) q = q.where("model", "=", options.model);
  if (options.firmwareVersion !== undefined) q = q.where("firmware_version", "=", options.firmwareVersion);
  if (options.group !== undefined)
    q = q.where(sql<boolean>`groups @> ${JSON.stringify([options.group])}::jsonb`);
  if (options.label !== undefined) {
    q = q.where(
      sql<boolean>`labels @> ${JSON.stringify({ [options.label.key]: options.label.value })}::jsonb`,
    );
  }
  if (options.certificateExpiringBefore !== undefined) {
    const before = options.certificateExpiringBefore;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("certificates")
          .select("seq")
          .whereRef("certificates.device_id", "=", "devices.id")
          .where("certificates.status", "=", "good")
          .where("certificates.not_after", "<", before),
      ),
    );
  }
  return q as Q;
}

/** What devices are listed by; every filter given must match. */
export interface DeviceQuery {
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
  /** A scoped caller's scope: values of one key are alternatives. */
  readonly scope?: Readonly<Record<string, readonly string[]>> | undefined;
  readonly state?: DeviceState | undefined;
  readonly tenant?: string | undefined;
  readonly region?: string | undefined;
  readonly model?: string | undefined;
  readonly firmwareVersion?: string | undefined;
  readonly group?: string | undefined;
  readonly label?: { readonly key: string; readonly value: string } | undefined;
  /** Devices with a good certificate that expires before this. */
  readonly certificateExpiringBefore?: Date | undefined;
}

/** A device to insert; its IDevID's public-key digest is the caller's to give (pki reads it). */
export type NewDevice = Insertable<DevicesTable>;

/** The hardware identity a new row shares with device `holder`, and which it is. */
export interface Collision {
  /** The row's place among those inserted. */
  readonly at: number;
  readonly identity: "serial" | "idevid-sha256" | "public-key-sha256";
  readonly holder: DeviceRow;
}

/** Who holds the identity that kept `row` out (visible now: it committed, or is ours). */
async function collisionOf(db: Kysely<Tables>, at: number, row: NewDevice): Promise<Collision> {
  const idevid = row.idevid ? sha256(row.idevid) : null;
  const key = row.public_key_sha256 ?? null;
  const holders = await db
    .selectFrom("devices")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("serial_number", "=", row.serial_number),
        ...(idevid ? [eb("idevid_sha256", "=", idevid)] : []),
        ...(key ? [eb("public_key_sha256", "=", key)] : []),
      ]),
    )
    .where("id", "!=", row.id)
    .execute();
  for (const holder of holders) {
    if (holder.serial_number === row.serial_number) return { at, identity: "serial", holder };
    if (idevid && holder.idevid_sha256 && equal(holder.idevid_sha256, idevid))
      return { at, identity: "idevid-sha256", holder };
    if (key && holder.public_key_sha256 && equal(holder.public_key_sha256, key))
      return { at, identity: "public-key-sha256", holder };
  }
  throw new KeyfleetError(
    "conflict",
    `device ${at} was not stored and no device holds its identities; retry`,
  );
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());
const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export type DeviceRepository = ReturnType<typeof deviceRepository>;
