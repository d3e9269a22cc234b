/**
 * What a lifecycle transition does to a device's certificates, inside the transition's transaction
 * (DESIGN §3): hold them, lift the hold, revoke them, each change also a revocation record
 * (status_changes, the CRL and OCSP producers' work). The registry decides; these only write.
 */
import type { Effect, TransitionRecord } from "../domain/index.js";
import {
  certificateRepository,
  revocationRepository,
  type DeviceStatusChange,
  type Tx,
} from "../store/index.js";

/** One certificate whose status a transition changed. */
export interface CredentialChange {
  readonly serial: string;
  readonly status: "good" | "hold" | "revoked";
  /** RFC 5280 reason (certificateHold for a hold); null when a hold is lifted. */
  readonly reason: string | null;
}

export type CredentialEffect = Exclude<Effect, { kind: "tombstone-identity" }>;

export async function applyCredentialEffect(
  tx: Tx,
  deviceId: string,
  effect: CredentialEffect,
  by: Pick<TransitionRecord, "actor" | "evidence" | "at">,
): Promise<CredentialChange[]> {
  const change = changeOf(deviceId, effect, by.at);
  const changed = await certificateRepository(tx).setDeviceStatus(change);
  await revocationRepository(tx).record(
    changed.map((c) => ({
      ...c,
      status: change.to,
      reason: change.reason,
      revokedAt: change.to === "good" ? null : by.at,
      invalidityDate: null,
      actor: by.actor,
      evidence: by.evidence.map((e) => ({ ...e })),
    })),
  );
  return changed.map(({ serial }) => ({ serial, status: change.to, reason: change.reason }));
}

function changeOf(deviceId: string, effect: CredentialEffect, at: Date): DeviceStatusChange {
  const base = { deviceId, at };
  switch (effect.kind) {
    case "hold-credentials":
      return { ...base, from: ["good"], to: "hold", reason: "certificateHold" };
    case "release-credentials":
      return { ...base, from: ["hold"], to: "good", reason: null };
    case "revoke-credentials":
      return { ...base, from: ["good", "hold"], to: "revoked", reason: effect.reason };
    case "revoke-all-but":
      return { ...base, from: ["good", "hold"], to: "revoked", reason: effect.reason, except: effect.keep };
    case "revoke-credential":
      return { ...base, from: ["good", "hold"], to: "revoked", reason: effect.reason, only: effect.serial };
    default: {
      const unhandled: never = effect;
      throw new TypeError(`unhandled credential effect ${JSON.stringify(unhandled)}`);
    }
  }
}
