/**
 * The lifecycle's deadlines (issue 17), kept by the `lifecycle-timers` task: a rotation whose
 * successor the device has not used within `rotationCommitSeconds` is aborted (its successor
 * revoked; the predecessor, still good, stays the one credential — a device that crashed mid-way
 * renews again from it), and a decommissioning whose grace period is over is finalized (every
 * certificate revoked, the hardware identity tombstoned). Each is an ordinary transition by
 * `system`, with its reason, audited like any other; a device that moved meanwhile is left alone.
 */
import { isKeyfleetError, type Command } from "../domain/index.js";
import { systemCaller } from "../policy/index.js";
import type { RegistryDeps } from "./registration.js";
import { applyCommand } from "./transitions.js";

/** How long a rotating device has to use its successor (commit) before the rotation is aborted. */
export const rotationCommitSeconds = 24 * 3600;
/** Devices handled per run; the next run takes the rest. */
const batch = 500;

export interface ExpiredTimers {
  /** Rotations aborted. */
  readonly aborted: string[];
  /** Decommissionings finalized. */
  readonly finalized: string[];
}

export async function expireLifecycleTimers(deps: RegistryDeps): Promise<ExpiredTimers> {
  const now = deps.clock.now();
  const db = deps.database.db;
  const stale = await db
    .selectFrom("devices")
    .innerJoin("certificates", "certificates.serial", "devices.successor_serial")
    .select("devices.id")
    .where("devices.state", "=", "rotating")
    .whereRef("certificates.device_id", "=", "devices.id")
    .where("certificates.created_at", "<", new Date(now.getTime() - rotationCommitSeconds * 1000))
    .orderBy("devices.id")
    .limit(batch)
    .execute();
  const ended = await db
    .selectFrom("devices")
    .select("id")
    .where("state", "=", "decommissioning")
    .where("grace_until", "<=", now)
    .orderBy("id")
    .limit(batch)
    .execute();
  const apply = async (ids: { id: string }[], command: Command, reason: string): Promise<string[]> => {
    const done: string[] = [];
    for (const { id } of ids) {
      try {
        await applyCommand(deps, id, command, systemCaller, { reason });
        done.push(id);
      } catch (e) {
        // Moved since it was read (committed, cancelled…): its deadline no longer applies.
        if (!isKeyfleetError(e, "invalid-transition") && !isKeyfleetError(e, "conflict")) throw e;
      }
    }
    return done;
  };
  return {
    aborted: await apply(
      stale,
      { kind: "abort" },
      `the successor was not used within ${rotationCommitSeconds / 3600} h of its issuance`,
    ),
    finalized: await apply(ended, { kind: "finalize" }, "the decommissioning grace period ended"),
  };
}
