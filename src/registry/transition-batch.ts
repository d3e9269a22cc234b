/**
 * The lifecycle transitions a group-commit batch of certificates brings (`issue`, `rotate`,
 * `abort` before `rotate`), written set-based in the batch's transaction: the batch's devices read
 * and locked in one query, each transition decided and authorized as applyIn decides it (in the
 * order the certificates came, so two certificates for one device chain), then one compare-and-set
 * update of every device, one audit append, one lifecycle-event insert and one outbox insert. A
 * refusal throws, failing the batch; group commit then writes each certificate alone through the
 * same path, so only the refused one fails and the others commit (DESIGN §6).
 */
import type { BatchWriter } from "../ca/index.js";
import {
  KeyfleetError,
  quoted,
  type Command,
  type DeviceLifecycle,
  type EvidenceRef,
} from "../domain/index.js";
import { deviceRepository, type DeviceRow, type Tx } from "../store/index.js";
import { lifecycleOf } from "./device-record.js";
import type { RegistryDeps } from "./registration.js";
import {
  afterTransition,
  applyEffects,
  checkActing,
  decide,
  recordTransitions,
  type Acting,
  type DecidedTransition,
} from "./transitions.js";

export interface TransitionBatch extends BatchWriter {
  /**
   * The commands a certificate just recorded in this batch brings to its device. The certificate
   * they name is that row, inserted for this very device in this transaction: good and the
   * device's by construction, which applyIn otherwise reads back to check.
   */
  add(deviceId: string, commands: readonly Command[], acting: Acting, evidence: readonly EvidenceRef[]): void;
}

export function transitionBatch(deps: RegistryDeps, tx: Tx): TransitionBatch {
  const queued: {
    deviceId: string;
    commands: readonly Command[];
    acting: Acting;
    evidence: readonly EvidenceRef[];
  }[] = [];
  return {
    add(deviceId, commands, acting, evidence) {
      queued.push({ deviceId, commands, acting, evidence });
    },
    async flush() {
      if (queued.length === 0) return;
      const devices = deviceRepository(tx);
      const ids = [...new Set(queued.map((q) => q.deviceId))].sort();
      const read = await devices.byIds(ids, true);
      const rows = new Map(read.map((r) => [r.id, r]));
      const now = deps.clock.now();
      const decided: DecidedTransition[] = [];
      for (const q of queued) {
        for (const command of q.commands) {
          const row = rows.get(q.deviceId);
          if (!row) throw new KeyfleetError("not-found", `no device ${quoted(q.deviceId)}`);
          checkActing(q.acting, row, command);
          const outcome = decide(row, command, q.acting, { evidence: q.evidence }, now);
          const credentials = await applyEffects(tx, row, outcome.effects, outcome.record);
          decided.push({
            deviceId: row.id,
            record: outcome.record,
            version: outcome.next.version,
            credentials,
          });
          rows.set(row.id, afterTransition(row, outcome.next, now));
        }
      }
      // Under the row locks no version can have moved; the compare-and-set says so if one did.
      const changes = read.map((r: DeviceRow) => ({
        id: r.id,
        fromVersion: r.version,
        next: lifecycleOf(rows.get(r.id)!) satisfies DeviceLifecycle,
      }));
      if ((await devices.setLifecycleMany(changes, now)) !== changes.length) {
        throw new KeyfleetError("conflict", `a device of this batch changed meanwhile; retry`);
      }
      await recordTransitions(deps, tx, decided);
    },
  };
}
