/**
 * Bootstrap tokens and enrollment nonces: secrets kept as SHA-256 digests, each used once. A use is
 * one conditional UPDATE (unused, unexpired, this device's), so two concurrent uses cannot both
 * succeed, and it runs in the caller's transaction: the certificate's, which undoes it if the
 * certificate is not recorded.
 */
import type { Kysely } from "kysely";
import type { BootstrapTokenRow, Tables } from "./schema.js";

/** Why a secret was not accepted, for the refusal's message. */
export type SpentReason = "unknown" | "other-device" | "used" | "expired";

export function enrollmentRepository(db: Kysely<Tables>) {
  return {
    async insertBootstrapToken(token: {
      id: string;
      deviceId: string;
      secretHash: Uint8Array;
      createdBy: string;
      expiresAt: Date;
    }): Promise<BootstrapTokenRow> {
      return db
        .insertInto("bootstrap_tokens")
        .values({
          id: token.id,
          device_id: token.deviceId,
          secret_hash: token.secretHash,
          created_by: token.createdBy,
          expires_at: token.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Spends the token: its row if this use is the one, else why not. */
    async useBootstrapToken(
      secretHash: Uint8Array,
      deviceId: string,
      certificate: string,
      now: Date,
    ): Promise<BootstrapTokenRow | SpentReason> {
      const used = await db
        .updateTable("bootstrap_tokens")
        .set({ used_at: now, certificate })
        .where("secret_hash", "=", secretHash)
        .where("device_id", "=", deviceId)
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .returningAll()
        .executeTakeFirst();
      return used ?? spentReason(await this.bootstrapToken(secretHash), deviceId, now);
    },

    /** The token a secret names, used or not (a check before the certificate is signed). */
    async bootstrapToken(secretHash: Uint8Array): Promise<BootstrapTokenRow | undefined> {
      return db
        .selectFrom("bootstrap_tokens")
        .selectAll()
        .where("secret_hash", "=", secretHash)
        .executeTakeFirst();
    },

    async insertNonce(nonce: { hash: Uint8Array; deviceId: string; expiresAt: Date }): Promise<void> {
      await db
        .insertInto("enrollment_nonces")
        .values({ nonce_hash: nonce.hash, device_id: nonce.deviceId, expires_at: nonce.expiresAt })
        .execute();
    },

    /** Spends the nonce; undefined if this use is the one, else why not. */
    async useNonce(hash: Uint8Array, deviceId: string, now: Date): Promise<SpentReason | undefined> {
      const used = await db
        .updateTable("enrollment_nonces")
        .set({ used_at: now })
        .where("nonce_hash", "=", hash)
        .where("device_id", "=", deviceId)
        .where("used_at", "is", null)
        .where("expires_at", ">", now)
        .returning("nonce_hash")
        .executeTakeFirst();
      if (used) return undefined;
      const row = await db
        .selectFrom("enrollment_nonces")
        .selectAll()
        .where("nonce_hash", "=", hash)
        .executeTakeFirst();
      return spentReason(row, deviceId, now);
    },

    /** Forgets nonces that expired before `before` (spent or not: either way no use can succeed). */
    async sweepNonces(before: Date, limit: number): Promise<number> {
      const rows = await db
        .deleteFrom("enrollment_nonces")
        .where(
          "nonce_hash",
          "in",
          db
            .selectFrom("enrollment_nonces")
            .select("nonce_hash")
            .where("expires_at", "<", before)
            .limit(limit),
        )
        .returning("nonce_hash")
        .execute();
      return rows.length;
    },
  };
}

function spentReason(
  row: { device_id: string; used_at: Date | null; expires_at: Date } | undefined,
  deviceId: string,
  now: Date,
): SpentReason {
  if (!row) return "unknown";
  if (row.device_id !== deviceId) return "other-device";
  if (row.used_at !== null) return "used";
  return row.expires_at.getTime() <= now.getTime() ? "expired" : "used";
}

export type EnrollmentRepository = ReturnType<typeof enrollmentRepository>;
