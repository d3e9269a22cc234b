/**
 * What the OCSP responder reads: the current status of certificates it has answered for (by issuer
 * and serial, on the serial index), the certificates whose status changed since a `status_changes`
 * cursor (migration 0021, by its primary key), and each issuing CA's newest delegated responder
 * certificate (migration 0022's partial index).
 */
import { sql, type Kysely } from "kysely";
import type { CertificateRow, CertificateStatus, Tables } from "./schema.js";

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

    /** The newest status change's `seq` (of any issuer), 0 when none: where a follower starts. */
    async lastChange(): Promise<number> {
      const row = await db
        .selectFrom("status_changes")
        .select("seq")
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst();
      return row ? Number(row.seq) : 0;
    },

    /** The certificates whose status changed after `seq`, the oldest `limit` changes, in order. */
    async changesAfter(
      seq: number,
      limit: number,
    ): Promise<{ readonly seq: number; readonly issuerId: string; readonly serial: string }[]> {
      const rows = await db
        .selectFrom("status_changes")
        .select(["seq", "issuer_id", "serial"])
        .where("seq", ">", String(seq) as never)
        .orderBy("seq")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), issuerId: r.issuer_id, serial: r.serial }));
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
