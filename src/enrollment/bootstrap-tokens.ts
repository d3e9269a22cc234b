/**
 * One-time bootstrap tokens (issue 16): for a device without an IDevID, an operator makes a token
 * bound to that one device; the device presents it once (EST: HTTP Basic with its device id as the
 * username, or Bearer) to get its first certificate. `kfb_` and 32 random bytes (base64url); only
 * the SHA-256 is kept, so it is shown once. Short-lived: 15 minutes unless asked, a week at most.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted, type Clock } from "../domain/index.js";
import { authorize, type Caller } from "../policy/index.js";
import {
  deviceRepository,
  enrollmentRepository,
  type BootstrapTokenRow,
  type Database,
  type SpentReason,
  type Tx,
} from "../store/index.js";

export const bootstrapTokenPrefix = "kfb_";
export const defaultBootstrapTtlSeconds = 15 * 60;
export const maxBootstrapTtlSeconds = 7 * 86_400;
/** The states a device may be given a bootstrap token in: those in which it may get a certificate. */
const enrollableStates: ReadonlySet<string> = new Set(["registered", "provisioned", "active"]);

export interface CreatedBootstrapToken {
  readonly id: string;
  readonly deviceId: string;
  /** The secret, shown this once. */
  readonly token: string;
  readonly expiresAt: Date;
}

export interface BootstrapTokenDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly audit: AuditLog;
}

export const hashBootstrapToken = (token: string): Uint8Array =>
  createHash("sha256").update(token, "utf8").digest();

export function looksLikeBootstrapToken(value: string): boolean {
  return value.startsWith(bootstrapTokenPrefix);
}

export function bootstrapTokens(deps: BootstrapTokenDeps) {
  return {
    /** A token for `deviceId`, by a caller who may have certificates issued for it. */
    async create(
      caller: Caller,
      input: { deviceId: string; ttlSeconds?: number | undefined },
    ): Promise<CreatedBootstrapToken> {
      authorize(caller, "cert.issue");
      const ttl = checkTtl(input.ttlSeconds ?? defaultBootstrapTtlSeconds);
      const token = bootstrapTokenPrefix + randomBytes(32).toString("base64url");
      const expiresAt = new Date(deps.clock.now().getTime() + ttl * 1000);
      return deps.database.transaction(async (tx) => {
        const device = await deviceRepository(tx).byId(input.deviceId, true);
        const what = `device ${quoted(input.deviceId)}`;
        if (!device) throw new KeyfleetError("not-found", `no ${what}`);
        authorize(caller, "cert.issue", { attributes: device, deviceId: device.id, what });
        if (!enrollableStates.has(device.state)) {
          throw new KeyfleetError(
            "invalid-transition",
            `${what} is ${device.state}: it cannot enroll, so it gets no bootstrap token`,
            { detail: { reason: "not-allowed-in-state", state: device.state } },
          );
        }
        const row = await enrollmentRepository(tx).insertBootstrapToken({
          id: randomUUID(),
          deviceId: device.id,
          secretHash: hashBootstrapToken(token),
          createdBy: caller.actor,
          expiresAt,
        });
        await deps.audit.append(tx, [
          {
            type: "bootstrap-token.created",
            actor: caller.actor,
            subject: `device:${device.id}`,
            details: { token: row.id, device: device.id, expiresAt: expiresAt.toISOString() },
          },
        ]);
        return { id: row.id, deviceId: device.id, token, expiresAt };
      });
    },

    /** The token as presented, if it may be used now for `deviceId` (nothing is spent). */
    async check(token: string, deviceId: string | undefined): Promise<BootstrapTokenRow> {
      const row = await enrollmentRepository(deps.database.db).bootstrapToken(hashBootstrapToken(token));
      const now = deps.clock.now();
      if (!row) throw refused("unknown");
      if (deviceId !== undefined && row.device_id !== deviceId) throw refused("other-device");
      if (row.used_at !== null) throw refused("used");
      if (row.expires_at.getTime() <= now.getTime()) throw refused("expired");
      return row;
    },

    /** Spends the token in the certificate's transaction; a token spent meanwhile fails that certificate. */
    async spend(tx: Tx, token: BootstrapTokenRow, serial: string): Promise<void> {
      const used = await enrollmentRepository(tx).useBootstrapToken(
        token.secret_hash,
        token.device_id,
        serial,
        deps.clock.now(),
      );
      if (typeof used === "string") throw refused(used);
    },
  };
}

export type BootstrapTokens = ReturnType<typeof bootstrapTokens>;

function checkTtl(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > maxBootstrapTtlSeconds) {
    throw new KeyfleetError(
      "malformed-request",
      `a bootstrap token lives 1 second to ${maxBootstrapTtlSeconds / 86_400} days, got ${String(seconds)} seconds`,
    );
  }
  return seconds;
}

const reasons: Readonly<Record<SpentReason, string>> = {
  unknown: "is not a bootstrap token Keyfleet issued",
  "other-device": "was issued for another device",
  used: "was used already: a bootstrap token is good for one enrollment (ask the operator for a new one)",
  expired: "has expired (ask the operator for a new one)",
};

function refused(reason: SpentReason): KeyfleetError {
  return new KeyfleetError("unauthorized", `the bootstrap token ${reasons[reason]}`, {
    detail: { credential: "bootstrap-token", reason },
  });
}
