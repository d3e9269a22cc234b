/**
 * What a CRL is made of: the issuer's next CRL Number, and its revoked and held certificates that
 * have not expired, streamed in serial order a page at a time (keyset, on the partial index of
 * migration 0020), so a CRL of a million entries never holds a million rows.
 */
import { sql, type Kysely } from "kysely";
import type { Tables } from "./schema.js";

export interface RevokedCertificateRow {
  readonly serial: string;
  readonly status: "hold" | "revoked";
  readonly revokedAt: Date;
  readonly reason: string | null;
}

const pageSize = 10_000;

export function crlRepository(db: Kysely<Tables>) {
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

    /** The issuer's certificates on hold or revoked, still valid at `at`, by serial. */
    async *notGood(issuerId: string, at: Date): AsyncGenerator<RevokedCertificateRow> {
      let after = "";
      for (;;) {
        const rows = await db
          .selectFrom("certificates")
          .select(["serial", "status", "revoked_at", "revocation_reason"])
          .where("issuer_id", "=", issuerId)
          .where("status", "<>", "good")
          .where("serial", ">", after)
          .where("not_after", ">", at)
          .orderBy("serial")
          .limit(pageSize)
          .execute();
        for (const r of rows) {
          yield {
            serial: r.serial,
            status: r.status as "hold" | "revoked",
            revokedAt: r.revoked_at!, // set whenever the status is not good (certificate-repository.ts)
            reason: r.revocation_reason,
          };
        }
        if (rows.length < pageSize) return;
        after = rows[rows.length - 1]!.serial;
      }
    },
  };
}
