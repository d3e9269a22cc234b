/**
 * Revocation records (migration 0021): a certificate's current status, read and locked for a
 * change; the change itself on the certificate and as a `status_changes` row. Every read here is
 * by key (the certificate's serial, the issuer's newest change), so a revocation costs the same
 * with none or a million certificates already revoked.
 */
import type { Kysely } from "kysely";
import type { CertificateRow, CertificateStatus, Tables } from "./schema.js";

/** One change of one certificate's status, as recorded. */
export interface NewStatusChange {
  readonly issuerId: string;
  readonly serial: string;
  readonly status: CertificateStatus;
  /** RFC 5280 reason name; null when a hold is lifted. */
  readonly reason: string | null;
  /** When it took effect; null when a hold is lifted. */
  readonly revokedAt: Date | null;
  readonly invalidityDate: Date | null;
  readonly actor: string;
  readonly evidence: readonly Record<string, unknown>[];
}

export function revocationRepository(db: Kysely<Tables>) {
  return {
    /** The certificate `serial`, locked until the transaction ends (one change at a time). */
    async lockBySerial(serial: string): Promise<CertificateRow | undefined> {
      return db
        .selectFrom("certificates")
        .selectAll()
        .where("serial", "=", serial)
        .forUpdate()
        .executeTakeFirst();
    },

    /** Sets one certificate's current status to what `change` records. */
    async setStatus(change: NewStatusChange): Promise<void> {
      await db
        .updateTable("certificates")
        .set({
          status: change.status,
          revocation_reason: change.reason,
          revoked_at: change.revokedAt,
          invalidity_date: change.invalidityDate,
        })
        .where("issuer_id", "=", change.issuerId)
        .where("serial", "=", change.serial)
        .execute();
    },

    /** Appends the records of changes already made to `certificates` in this transaction. */
    async record(changes: readonly NewStatusChange[]): Promise<void> {
      if (changes.length === 0) return;
      await db
        .insertInto("status_changes")
        .values(
          changes.map((c) => ({
            issuer_id: c.issuerId,
            serial: c.serial,
            status: c.status,
            reason: c.reason,
            revoked_at: c.revokedAt,
            invalidity_date: c.invalidityDate,
            actor: c.actor,
            evidence: JSON.stringify(c.evidence),
          })),
        )
        .execute();
    },

    /** The issuer's newest status change (its `seq`), 0 when none: what a CRL made now runs through. */
    async lastChange(issuerId: string): Promise<number> {
      const row = await db
        .selectFrom("status_changes")
        .select("seq")
        .where("issuer_id", "=", issuerId)
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst();
      return row ? Number(row.seq) : 0;
    },
  };
}
