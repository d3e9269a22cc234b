/**
 * What the OCSP responder reads: the current status of certificates it has answered for (by issuer
 * and serial, on the serial index), the certificates whose status changed where its last snapshot
 * did not see it (`status_changes` by writing transaction, migration 0021: a cursor by sequence
 * number would skip a change that commits after a later-numbered one), and each issuing CA's
 * newest delegated responder certificate (migration 0022's partial index).
 */
import { sql, type Kysely } from "kysely";
import type { CertificateRow, CertificateStatus, Tables } from "./schema.js";
import { currentSnapshot, repeatableRead, unseenBy } from "./snapshots.js";

export interface CertificateStatusRow {
  readonly serial: string;
  readonly status: CertificateStatus;
  readonly revokedAt: Date | null;
  readonly reason: string | null;
}

export function ocspRepository(db: Kysely<Tables>) {
  return {
    /** The statuses of those of `serials` the issuer issued; a serial it never issued is absent. */
    async statuses(issuerId: string, serials: readonly string[]): Promise<Map<string, CertificateStatusRow>> {
      if (serials.length === 0) return new Map();
      const rows = await db
        .selectFrom("certificates")
        .select(["serial", "status", "revoked_at", "revocation_reason"])
        .where("issuer_id", "=", issuerId)
        .where("serial", "in", [...serials])
        .execute();
      return new Map(
        rows.map((r) => [
          r.serial,
          { serial: r.serial, status: r.status, revokedAt: r.revoked_at, reason: r.revocation_reason },
        ]),
      );
    },

    /**
     * The certificates whose status changed where `snapshot` did not see it (pg_snapshot, as
     * text), and the snapshot this read was made in: the next `snapshot` to ask with. In a
     * repeatable-read transaction (`oneSnapshot` first), so the two are the same moment: a change
     * committing meanwhile is in neither, and comes with the next read.
     */
    async changesSince(snapshot: string): Promise<{
      readonly changes: { readonly issuerId: string; readonly serial: string }[];
      readonly snapshot: string;
    }> {
      const now = await currentSnapshot(db);
      const rows = await unseenBy(
        db.selectFrom("status_changes").select(["issuer_id", "serial"]).distinct(),
        snapshot,
      ).execute();
      return {
        changes: rows.map((r) => ({ issuerId: r.issuer_id, serial: r.serial })),
        snapshot: now,
      };
    },

    /** First in a transaction: its every read sees one snapshot. */
    async oneSnapshot(): Promise<void> {
      await repeatableRead(db);
    },

    /** The snapshot of now (pg_snapshot, as text): where a follower starts. */
    async currentSnapshot(): Promise<string> {
      return currentSnapshot(db);
    },

    /** The issuer's newest delegated responder certificate. */
    async newestResponder(issuerId: string): Promise<CertificateRow | undefined> {
      return (
        db
          .selectFrom("certificates")
          .selectAll()
          // A literal, so PostgreSQL sees the partial index's predicate (as certificate-repository.ts does).
          .where("profile", "=", sql.lit("ocsp-responder"))
          .where("issuer_id", "=", issuerId)
          .orderBy("seq", "desc")
          .limit(1)
          .executeTakeFirst()
      );
    },

    /** Whether any responder certificate of this key (SHA-256 of its SubjectPublicKeyInfo) is valid at `at`. */
    async responderValidWithKey(publicKeySha256: Uint8Array, at: Date): Promise<boolean> {
      const row = await db
        .selectFrom("certificates")
        .select("serial")
        .where("profile", "=", sql.lit("ocsp-responder"))
        .where("public_key_sha256", "=", publicKeySha256)
        .where("not_after", ">", at)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type OcspRepository = ReturnType<typeof ocspRepository>;
