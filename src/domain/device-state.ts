/**
 * The device lifecycle's vocabulary (DESIGN §3): eight states, twelve commands, the effects a
 * transition has on a device's credentials, and the reasons a command is refused. Data only; the
 * rules are in lifecycle.ts.
 */
import type { CertificateSerial } from "./ids.js";

export const deviceStates = [
  "registered",
  "provisioned",
  "active",
  "rotating",
  "updating",
  "suspended",
  "decommissioning",
  "decommissioned",
] as const;
export type DeviceState = (typeof deviceStates)[number];

export function isDeviceState(value: string): value is DeviceState {
  return (deviceStates as readonly string[]).includes(value);
}

/** What a transition needs to know of a device: its state and the lifecycle facts that ride on it. */
export interface DeviceLifecycle {
  readonly state: DeviceState;
  /** Compare-and-set version: every transition adds one. */
  readonly version: number;
  /** While rotating: the successor credential, issued and not yet committed. */
  readonly successor: CertificateSerial | null;
  /** While decommissioning: until when `cancel` is allowed. */
  readonly graceUntil: Date | null;
}

/** A reference to what justifies a transition: an attestation result, a manifest, an approval, a certificate. */
export interface EvidenceRef {
  readonly kind:
    | "attestation"
    | "manifest"
    | "approval"
    | "certificate"
    | "proof-of-possession"
    | "ticket"
    /** The device's signed report that it erased its key (recorded by the registry, never given by an operator). */
    | "erasure";
  /** The id or digest of the evidence (an attestation result id, a manifest's SHA-256, a serial). */
  readonly ref: string;
  /** For an attestation result or an appraisal: whether it passed. */
  readonly passed?: boolean | undefined;
}

export type Command =
  /** An operational certificate (LDevID) was issued for a registered device. */
  | { readonly kind: "issue"; readonly certificate: CertificateSerial }
  /** The device proved it installed its certificate. */
  | { readonly kind: "confirm" }
  /** A successor credential was issued; it waits for commit or abort. */
  | { readonly kind: "rotate"; readonly successor: CertificateSerial }
  | { readonly kind: "commit" }
  | { readonly kind: "abort" }
  /** A firmware update is authorized against a signed manifest (its digest is the evidence). */
  | { readonly kind: "update" }
  /** The device re-attested after an update; the evidence says whether the appraisal passed. */
  | { readonly kind: "reattest" }
  | { readonly kind: "suspend" }
  | { readonly kind: "resume" }
  | { readonly kind: "retire" }
  | { readonly kind: "cancel" }
  /** Ends decommissioning; `compromised` revokes with keyCompromise instead of cessationOfOperation. */
  | { readonly kind: "finalize"; readonly compromised?: boolean | undefined };

export type CommandKind = Command["kind"];

export const commandKinds: readonly CommandKind[] = [
  "issue",
  "confirm",
  "rotate",
  "commit",
  "abort",
  "update",
  "reattest",
  "suspend",
  "resume",
  "retire",
  "cancel",
  "finalize",
];

/** RFC 5280 §5.3.1 reasons a transition revokes with. */
export type LifecycleRevocationReason = "superseded" | "cessationOfOperation" | "keyCompromise";

/** What a transition does to the device's credentials, applied in the transition's transaction. */
export type Effect =
  /** Every good certificate of the device goes on hold (certificateHold). */
  | { readonly kind: "hold-credentials" }
  /** Every certificate of the device on hold is good again. */
  | { readonly kind: "release-credentials" }
  /** Every certificate of the device not yet revoked is revoked. */
  | { readonly kind: "revoke-credentials"; readonly reason: LifecycleRevocationReason }
  /** Every certificate of the device but `keep` is revoked (a committed rotation). */
  | {
      readonly kind: "revoke-all-but";
      readonly keep: CertificateSerial;
      readonly reason: LifecycleRevocationReason;
    }
  /** One certificate is revoked (an aborted rotation's successor). */
  | {
      readonly kind: "revoke-credential";
      readonly serial: CertificateSerial;
      readonly reason: LifecycleRevocationReason;
    }
  /** The hardware identity can never be registered or enrolled again. */
  | { readonly kind: "tombstone-identity" };

/** Why a command is refused: stable names, shown to the caller and kept in the audit log. */
export type RefusalReason =
  | "terminal-state" // the device is decommissioned: nothing changes it any more
  | "not-allowed-in-state" // the command does not apply to the device's state
  | "evidence-required" // the command needs evidence it was not given (proof, attestation, manifest)
  | "grace-expired"; // cancel after the decommissioning grace period

/** What the transition is told besides the device and the command. */
export interface TransitionContext {
  readonly now: Date;
  /** Who asks (`token:<id>`, `cli:<user>`, `device:<id>`, `system`). */
  readonly actor: string;
  /** Why, in the actor's words. */
  readonly reason?: string | undefined;
  readonly evidence: readonly EvidenceRef[];
  /** The policy version in force, recorded with the transition. */
  readonly policyVersion: number;
  readonly rules: LifecycleRules;
}

/** The policy's say in the lifecycle (issue 15's policy document sets these). */
export interface LifecycleRules {
  /** How long a decommissioning device may be cancelled back to suspended. */
  readonly decommissionGraceSeconds: number;
  /** Whether confirm and resume need a passed attestation as evidence. */
  readonly attestationRequired: boolean;
}

export const defaultLifecycleRules: LifecycleRules = {
  decommissionGraceSeconds: 7 * 24 * 3600,
  attestationRequired: false,
};

/** A transition as it is recorded: who, why, on what evidence, under which policy, when. */
export interface TransitionRecord {
  readonly command: CommandKind;
  readonly from: DeviceState;
  readonly to: DeviceState;
  readonly actor: string;
  readonly reason: string | null;
  readonly evidence: readonly EvidenceRef[];
  readonly policyVersion: number;
  readonly at: Date;
}

export type Outcome =
  | {
      readonly ok: true;
      readonly next: DeviceLifecycle;
      readonly effects: readonly Effect[];
      readonly record: TransitionRecord;
    }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };
