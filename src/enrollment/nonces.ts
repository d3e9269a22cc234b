/**
 * Enrollment nonces (issue 16): the server hands a device a fresh value, bound to that device and
 * good for five minutes, which the device puts in its CSR's challengePassword (RFC 2985 §5.4.1;
 * EST csrattrs names the attribute) or signs in its evidence. Each is accepted once: a replayed
 * CSR or evidence finds it spent. 16 random bytes, base64url; only the SHA-256 is stored.
 */
import { createHash, randomBytes } from "node:crypto";
import { KeyfleetError, type Clock } from "../domain/index.js";
import { enrollmentRepository, type Database, type SpentReason, type Tx } from "../store/index.js";

export const nonceLifetimeSeconds = 300;
/** How many expired nonces one sweep forgets (the task runs again for the rest). */
const sweepBatch = 10_000;

export interface Nonce {
  readonly nonce: string;
  readonly expiresAt: Date;
}

const hashNonce = (nonce: string): Uint8Array => createHash("sha256").update(nonce, "utf8").digest();

export function enrollmentNonces(deps: { readonly database: Database; readonly clock: Clock }) {
  return {
    /** A new nonce for `deviceId` (authenticated by the caller). */
    async issue(deviceId: string): Promise<Nonce> {
      const nonce = randomBytes(16).toString("base64url");
      const expiresAt = new Date(deps.clock.now().getTime() + nonceLifetimeSeconds * 1000);
      await enrollmentRepository(deps.database.db).insertNonce({
        hash: hashNonce(nonce),
        deviceId,
        expiresAt,
      });
      return { nonce, expiresAt };
    },

    /** Spends `nonce` for `deviceId` in `tx` (the certificate's): refused if unknown, another's, spent or expired. */
    async spend(tx: Tx, deviceId: string, nonce: string): Promise<void> {
      const why = await enrollmentRepository(tx).useNonce(hashNonce(nonce), deviceId, deps.clock.now());
      if (why !== undefined) throw refused(why);
    },

    /** Spends `nonce` for `deviceId` on its own (a request that writes nothing else, such as a status check). */
    spendAlone(deviceId: string, nonce: string): Promise<void> {
      return deps.database.transaction((tx) => this.spend(tx, deviceId, nonce));
    },

    /** Forgets nonces expired a lifetime ago (a background task); returns how many. */
    async sweep(): Promise<number> {
      const before = new Date(deps.clock.now().getTime() - nonceLifetimeSeconds * 1000);
      return enrollmentRepository(deps.database.db).sweepNonces(before, sweepBatch);
    },
  };
}

export type EnrollmentNonces = ReturnType<typeof enrollmentNonces>;

const reasons: Readonly<Record<SpentReason, string>> = {
  unknown: "is not a nonce Keyfleet issued (or it expired long ago)",
  "other-device": "was issued to another device",
  used: "was used already: a nonce is good once (ask for a new one)",
  expired: `has expired: a nonce is good for ${nonceLifetimeSeconds / 60} minutes (ask for a new one)`,
};

function refused(reason: SpentReason): KeyfleetError {
  return new KeyfleetError("invalid-nonce", `the nonce ${reasons[reason]}`, {
    detail: { credential: "nonce", reason },
  });
}
