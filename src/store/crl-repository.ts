/**
 * What CRLs are made of and where they are kept: the issuer's next CRL Number; a CRL scope's (an
 * issuer's shard's) revoked and held certificates (a full CRL), or those whose status changed
 * where a given snapshot did not see it (a delta CRL), streamed in serial order a page at a time
 * (keyset), so a CRL of a million entries never holds a million rows; each scope's newest
 * published full and delta CRL (migrations 0021, 0026), which every node serves; and each scope's
 * delta base, the full CRL its deltas are made against.
 */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from "kysely";
import { KeyfleetError } from "../domain/index.js";
import type { CertificateStatus, CrlDeltaBasesTable, PublishedCrlsTable, Tables } from "./schema.js";
import { currentSnapshot, repeatableRead, unseenBy } from "./snapshots.js";

export interface RevokedCertificateRow {
  readonly serial: string;
  readonly status: CertificateStatus;
  /** Null for a certificate whose hold was lifted (a delta's removeFromCRL). */
  readonly revokedAt: Date | null;
  readonly reason: string | null;
  readonly invalidityDate: Date | null;
}

export type PublishedCrlRow = Selectable<PublishedCrlsTable>;
export type DeltaBaseRow = Selectable<CrlDeltaBasesTable>;

/** One CRL scope: an issuer's shard (0 when it has one). */
export interface CrlScopeKey {
  readonly issuerId: string;
  readonly shard: number;
}

/** The status changes of the scope's certificates that `snapshot` did not see. */
function unseen<Q extends SelectQueryBuilder<Tables, "status_changes", object>>(
  q: Q,
  scope: CrlScopeKey,
  snapshot: string,
): Q {
  const inScope = q.where("status_changes.issuer_id", "=", scope.issuerId).where((eb) =>
    eb.exists(
      eb
        .selectFrom("certificates")
        .select(sql`1`.as("one"))
        .whereRef("certificates.issuer_id", "=", "status_changes.issuer_id")
        .whereRef("certificates.serial", "=", "status_changes.serial")
        .where("certificates.crl_shard", "=", scope.shard),
    ),
  ) as Q;
  return unseenBy(inScope, snapshot);
}

const pageSize = 10_000;
/** A published CRL's bytes are kept in parts of this size. */
const partSize = 1 << 20;

export function crlRepository(db: Kysely<Tables>) {
  /** Pages of `page(after)` in serial order until one comes back short. */
  async function* bySerial(
    page: (after: string) => Promise<
      {
        serial: string;
        status: CertificateStatus;
        revoked_at: Date | null;
        revocation_reason: string | null;
        invalidity_date: Date | null;
      }[]
    >,
  ): AsyncGenerator<RevokedCertificateRow> {
    let after = "";
    for (;;) {
      const rows = await page(after);
      for (const r of rows) {
        yield {
          serial: r.serial,
          status: r.status,
          revokedAt: r.revoked_at,
          reason: r.revocation_reason,
          invalidityDate: r.invalidity_date,
        };
      }
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.serial;
    }
  }
  const columns = ["serial", "status", "revoked_at", "revocation_reason", "invalidity_date"] as const;

  return {
    /**
     * The issuer's next CRL Number (1 for its first CRL); never the same twice, gaps allowed. As
     * the first statement of a repeatable-read transaction it is taken in the CRL's own snapshot:
     * a concurrent producer's number makes this one fail (40001) rather than number an older
     * snapshot higher.
     */
    async nextNumber(issuerId: string): Promise<bigint> {
      const row = await db
        .insertInto("crl_numbers")
        .values({ issuer_id: issuerId, last_number: 1 })
        .onConflict((oc) =>
          oc.column("issuer_id").doUpdateSet({ last_number: sql`crl_numbers.last_number + 1` }),
        )
        .returning("last_number")
        .executeTakeFirstOrThrow();
      return BigInt(row.last_number);
    },

    /** First in a transaction: its every read sees one snapshot (a CRL is one moment's truth). */
    async oneSnapshot(): Promise<void> {
      await repeatableRead(db);
    },

    /** The snapshot this transaction reads in (pg_snapshot, as text): what a CRL made in it saw. */
    async currentSnapshot(): Promise<string> {
      return currentSnapshot(db);
    },

    /**
     * The scope's certificates on hold or revoked, by serial (a full CRL): those expired before
     * `keptSince` are left out (RFC 5280 §3.3: an entry stays until one scheduled CRL after the
     * certificate expired has listed it).
     */
    notGood(scope: CrlScopeKey, keptSince: Date): AsyncGenerator<RevokedCertificateRow> {
      return bySerial((after) =>
        db
          .selectFrom("certificates")
          .select(columns)
          .where("issuer_id", "=", scope.issuerId)
          .where("crl_shard", "=", scope.shard)
          .where("status", "<>", "good")
          .where("serial", ">", after)
          .where("not_after", ">", keptSince)
          .orderBy("serial")
          .limit(pageSize)
          .execute(),
      );
    },

    /** How many of the scope's certificates are on hold or revoked (a full CRL's size, to size its buffer). */
    async countNotGood(scope: CrlScopeKey, keptSince: Date): Promise<number> {
      const row = await db
        .selectFrom("certificates")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("issuer_id", "=", scope.issuerId)
        .where("crl_shard", "=", scope.shard)
        .where("status", "<>", "good")
        .where("not_after", ">", keptSince)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /**
     * The scope's certificates whose status changed where `snapshot` did not see it (a delta CRL
     * against the full CRL read in that snapshot), as they are now, by serial: good ones are holds
     * lifted since. Expired before `keptSince`: left out, as in the full CRL.
     */
    changedSince(
      scope: CrlScopeKey,
      snapshot: string,
      keptSince: Date,
    ): AsyncGenerator<RevokedCertificateRow> {
      return bySerial((after) =>
        db
          .selectFrom("certificates")
          .select(columns)
          .where("issuer_id", "=", scope.issuerId)
          .where("crl_shard", "=", scope.shard)
          .where("serial", ">", after)
          .where("not_after", ">", keptSince)
          .where("serial", "in", (eb) =>
            unseenBy(
              eb.selectFrom("status_changes").select("serial").where("issuer_id", "=", scope.issuerId),
              snapshot,
            ),
          )
          .orderBy("serial")
          .limit(pageSize)
          .execute(),
      );
    },

    /**
     * How many of the scope's status changes `snapshot` did not see (a CRL read in it is behind by
     * so many), counted up to `atMost`.
     */
    async changesAfter(scope: CrlScopeKey, snapshot: string, atMost: number): Promise<number> {
      const row = await db
        .selectFrom(
          unseen(db.selectFrom("status_changes").select("status_changes.seq"), scope, snapshot)
            .limit(atMost)
            .as("unseen"),
        )
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** The scope's newest published CRL of `kind`. */
    async published(scope: CrlScopeKey, kind: "full" | "delta"): Promise<PublishedCrlRow | undefined> {
      return db
        .selectFrom("published_crls")
        .selectAll()
        .where("issuer_id", "=", scope.issuerId)
        .where("shard", "=", scope.shard)
        .where("kind", "=", kind)
        .executeTakeFirst();
    },

    /** Every scope's newest CRLs, without their bytes: what a node compares its own with. */
    async publishedNumbers(): Promise<
      { issuer_id: string; shard: number; kind: "full" | "delta"; number: string | number | bigint }[]
    > {
      return db.selectFrom("published_crls").select(["issuer_id", "shard", "kind", "number"]).execute();
    },

    /** The scope's delta base: the full CRL its deltas are made against. */
    async deltaBase(scope: CrlScopeKey): Promise<DeltaBaseRow | undefined> {
      return db
        .selectFrom("crl_delta_bases")
        .selectAll()
        .where("issuer_id", "=", scope.issuerId)
        .where("shard", "=", scope.shard)
        .executeTakeFirst();
    },

    /** Makes `base` the scope's delta base, unless a newer one is there already. */
    async keepDeltaBase(base: DeltaBaseRow): Promise<void> {
      await db
        .insertInto("crl_delta_bases")
        .values({ ...base, number: Number(base.number) })
        .onConflict((oc) =>
          oc
            .columns(["issuer_id", "shard"])
            .doUpdateSet((eb) => ({
              number: eb.ref("excluded.number"),
              snapshot: eb.ref("excluded.snapshot"),
              this_update: eb.ref("excluded.this_update"),
            }))
            .where("crl_delta_bases.number", "<", (eb) => eb.ref("excluded.number")),
        )
        .execute();
    },

    /**
     * Keeps `crl` (its bytes `der`) as the scope's newest of its kind, unless a newer one is there
     * already; false then. Inside a transaction: the row and its parts change together.
     */
    async keep(crl: PublishedCrlRow, der: Uint8Array): Promise<boolean> {
      const kept = await db
        .insertInto("published_crls")
        .values({
          ...crl,
          number: Number(crl.number),
          base_number: crl.base_number === null ? null : Number(crl.base_number),
        })
        .onConflict((oc) =>
          oc
            .columns(["issuer_id", "shard", "kind"])
            .doUpdateSet((eb) => ({
              number: eb.ref("excluded.number"),
              base_number: eb.ref("excluded.base_number"),
              snapshot: eb.ref("excluded.snapshot"),
              this_update: eb.ref("excluded.this_update"),
              next_update: eb.ref("excluded.next_update"),
              entries: eb.ref("excluded.entries"),
              size: eb.ref("excluded.size"),
            }))
            .where("published_crls.number", "<", (eb) => eb.ref("excluded.number")),
        )
        .returning("number")
        .executeTakeFirst();
      if (!kept) return false;
      const key = { issuer_id: crl.issuer_id, shard: crl.shard, kind: crl.kind, number: Number(crl.number) };
      for (let part = 0; part * partSize < der.length; part++) {
        const bytes = der.subarray(part * partSize, (part + 1) * partSize);
        await db
          .insertInto("published_crl_parts")
          .values({ ...key, part, bytes })
          .execute();
      }
      await db
        .deleteFrom("published_crl_parts")
        .where("issuer_id", "=", crl.issuer_id)
        .where("shard", "=", crl.shard)
        .where("kind", "=", crl.kind)
        .where("number", "<>", Number(crl.number))
        .execute();
      return true;
    },

    /** The bytes of a kept CRL, read a part at a time into one buffer of its size. */
    async bytes(
      crl: Pick<PublishedCrlRow, "issuer_id" | "shard" | "kind" | "number" | "size">,
    ): Promise<Uint8Array> {
      const der = new Uint8Array(crl.size);
      let at = 0;
      for (let part = 0; at < crl.size; part++) {
        const row = await db
          .selectFrom("published_crl_parts")
          .select("bytes")
          .where("issuer_id", "=", crl.issuer_id)
          .where("shard", "=", crl.shard)
          .where("kind", "=", crl.kind)
          .where("number", "=", Number(crl.number))
          .where("part", "=", part)
          .executeTakeFirst();
        if (!row || at + row.bytes.length > crl.size) break;
        der.set(row.bytes, at);
        at += row.bytes.length;
      }
      if (at !== crl.size) {
        throw new KeyfleetError(
          "internal",
          `CRL ${String(crl.number)} of CA ${crl.issuer_id} is not whole in the database`,
        );
      }
      return der;
    },
  };
}
