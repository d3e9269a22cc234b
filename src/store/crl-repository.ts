/**
 * What CRLs are made of and where they are kept: the issuer's next CRL Number; its revoked and
 * held certificates that have not expired (a full CRL), or those whose status changed after a
 * given revocation record (a delta CRL), streamed in serial order a page at a time (keyset), so a
 * CRL of a million entries never holds a million rows; and each issuer's newest published full and
 * delta CRL (migration 0021), which every node serves and the next delta builds on.
 */
import { sql, type Kysely, type Selectable } from "kysely";
import type { CertificateStatus, PublishedCrlsTable, Tables } from "./schema.js";

export interface RevokedCertificateRow {
  readonly serial: string;
  readonly status: CertificateStatus;
  /** Null for a certificate whose hold was lifted (a delta's removeFromCRL). */
  readonly revokedAt: Date | null;
  readonly reason: string | null;
  readonly invalidityDate: Date | null;
}

export type PublishedCrlRow = Selectable<PublishedCrlsTable>;

const pageSize = 10_000;

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
    /** The issuer's next CRL Number (1 for its first CRL); never the same twice, gaps allowed. */
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
      await sql`set transaction isolation level repeatable read`.execute(db);
    },

    /** The issuer's certificates on hold or revoked, still valid at `at`, by serial (a full CRL). */
    notGood(issuerId: string, at: Date): AsyncGenerator<RevokedCertificateRow> {
      return bySerial((after) =>
        db
          .selectFrom("certificates")
          .select(columns)
          .where("issuer_id", "=", issuerId)
          .where("status", "<>", "good")
          .where("serial", ">", after)
          .where("not_after", ">", at)
          .orderBy("serial")
          .limit(pageSize)
          .execute(),
      );
    },

    /**
     * The issuer's certificates still valid at `at` whose status changed after revocation record
     * `afterSeq`, as they are now, by serial (a delta CRL: good ones are holds lifted since).
     */
    changedSince(issuerId: string, afterSeq: number, at: Date): AsyncGenerator<RevokedCertificateRow> {
      return bySerial((after) =>
        db
          .selectFrom("certificates")
          .select(columns)
          .where("issuer_id", "=", issuerId)
          .where("serial", ">", after)
          .where("not_after", ">", at)
          .where("serial", "in", (eb) =>
            eb
              .selectFrom("status_changes")
              .select("serial")
              .where("issuer_id", "=", issuerId)
              .where("seq", ">", afterSeq),
          )
          .orderBy("serial")
          .limit(pageSize)
          .execute(),
      );
    },

    /** The issuer's newest published CRL of `kind`. */
    async published(issuerId: string, kind: "full" | "delta"): Promise<PublishedCrlRow | undefined> {
      return db
        .selectFrom("published_crls")
        .selectAll()
        .where("issuer_id", "=", issuerId)
        .where("kind", "=", kind)
        .executeTakeFirst();
    },

    /** Every issuer's newest CRLs, without their bytes: what a node compares its own with. */
    async publishedNumbers(): Promise<
      { issuer_id: string; kind: "full" | "delta"; number: string | number | bigint }[]
    > {
      return db.selectFrom("published_crls").select(["issuer_id", "kind", "number"]).execute();
    },

    /** Keeps `crl` as the issuer's newest of its kind, unless a newer one is there already. */
    async keep(crl: PublishedCrlRow): Promise<boolean> {
      const row = await db
        .insertInto("published_crls")
        .values({
          ...crl,
          number: Number(crl.number),
          base_number: crl.base_number === null ? null : Number(crl.base_number),
          through_seq: Number(crl.through_seq),
        })
        .onConflict((oc) =>
          oc
            .columns(["issuer_id", "kind"])
            .doUpdateSet((eb) => ({
              number: eb.ref("excluded.number"),
              base_number: eb.ref("excluded.base_number"),
              through_seq: eb.ref("excluded.through_seq"),
              this_update: eb.ref("excluded.this_update"),
              next_update: eb.ref("excluded.next_update"),
              entries: eb.ref("excluded.entries"),
              der: eb.ref("excluded.der"),
            }))
            .where("published_crls.number", "<", (eb) => eb.ref("excluded.number")),
        )
        .returning("number")
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
