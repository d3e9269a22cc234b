/**
 * Applying a lifecycle command (DESIGN §3): in one transaction, the device row locked, the pure
 * transition decided, the compare-and-set on the version, the effects on its certificates, the
 * lifecycle event with its evidence, the audit leaf and the outbox event. Nothing else in the code
 * changes a device's state.
 */
import { createHash, randomUUID } from "node:crypto";
import { applyCredentialEffect, requestIdPattern, type CredentialChange } from "../ca/index.js";
import {
  KeyfleetError,
  defaultLifecycleRules,
  quoted,
  transition,
  type Command,
  type DeviceLifecycle,
  type Effect,
  type EvidenceRef,
  type TransitionRecord,
} from "../domain/index.js";
import {
  certificateRepository,
  deviceRepository,
  lifecycleEventRepository,
  rotationRequestRepository,
  tombstoneRepository,
  type DeviceRow,
  type LifecycleEventRow,
  type Tx,
} from "../store/index.js";
import { authorize, type ActivePolicy, type Caller } from "../policy/index.js";
import { deviceOf, lifecycleOf, policyDeviceOf, type Device } from "./device-record.js";
import { erasureEvidence } from "./erase-reports.js";
import { hardwareIdentities } from "./hardware-identity.js";
import type { RegistryDeps } from "./registration.js";

export interface ApplyOptions {
  /** The device version the caller read (If-Match): a stale one is `precondition-failed`. */
  readonly ifMatch?: number | undefined;
  /** A retry with the same key and the same command answers as the first did, and writes nothing. */
  readonly idempotencyKey?: string | undefined;
  /** Why, in the actor's words (kept in the history and the audit log). */
  readonly reason?: string | undefined;
  readonly evidence?: readonly EvidenceRef[] | undefined;
}

export interface LifecycleEvent {
  readonly id: string;
  readonly deviceId: string;
  readonly command: string;
  readonly from: string;
  readonly to: string;
  /** The device's version after the transition. */
  readonly version: number;
  readonly actor: string;
  readonly reason: string | null;
  readonly evidence: readonly EvidenceRef[];
  /** What the transition did to the device's certificates. */
  readonly credentials: readonly CredentialChange[];
  readonly policyVersion: number;
  readonly at: Date;
  /** The index of its audit leaf (`keyfleet audit prove --index N`). */
  readonly auditIndex: number;
}

export interface TransitionResult {
  readonly device: Device;
  readonly event: LifecycleEvent;
  /** True when this answers a retry (same idempotency key): nothing was written this time. */
  readonly replayed: boolean;
}

/** The lifecycle commands an operator gives (API and CLI); the others come from enrollment and rotation. */
export const operatorCommands = ["suspend", "resume", "retire", "cancel", "finalize"] as const;
export type OperatorCommand = (typeof operatorCommands)[number];

/**
 * Who acts, under which policy version, holding which permission: `device.lifecycle` for a
 * command, `cert.issue` for the transition a certificate's issuance brings (applied in its batch).
 */
export interface Acting {
  readonly caller: Caller;
  readonly policy: ActivePolicy;
  readonly permission: "device.lifecycle" | "cert.issue" | "device.enroll";
}

const maxReason = 500;
const reasonPattern = new RegExp(`^[^\\p{Cc}\\p{Cf}]{1,${maxReason}}$`, "u");
const evidenceKinds: ReadonlySet<string> = new Set<EvidenceRef["kind"]>([
  "attestation",
  "manifest",
  "approval",
  "certificate",
  "proof-of-possession",
  "ticket",
]);

export async function applyCommand(
  deps: RegistryDeps,
  deviceId: string,
  command: Command,
  caller: Caller,
  options: ApplyOptions = {},
): Promise<TransitionResult> {
  authorize(caller, "device.lifecycle");
  checkOptions(options);
  // Read before the transaction: the policy is not to be looked up while the device is locked.
  const acting: Acting = { caller, policy: await deps.policies.current(), permission: "device.lifecycle" };
  return deps.database.transaction((tx) => applyIn(deps, tx, deviceId, command, acting, options));
}

/** A transition inside `tx`, authorized for `acting` (roles, scope, then the policy's forbids). */
export async function applyIn(
  deps: RegistryDeps,
  tx: Tx,
  deviceId: string,
  command: Command,
  acting: Acting,
  options: ApplyOptions,
): Promise<TransitionResult> {
  const digest = requestDigest(command, options);
  const devices = deviceRepository(tx);
  const events = lifecycleEventRepository(tx);
  const row = await devices.byId(deviceId, true);
  if (!row) throw new KeyfleetError("not-found", `no device ${quoted(deviceId)}`);
  checkActing(acting, row, command);
  if (options.idempotencyKey !== undefined) {
    const earlier = await events.byIdempotencyKey(deviceId, options.idempotencyKey);
    if (earlier) return replay(row, earlier, digest, options.idempotencyKey);
  }
  if (options.ifMatch !== undefined && options.ifMatch !== row.version) {
    throw new KeyfleetError(
      "precondition-failed",
      `device ${quoted(deviceId)} is at version ${row.version}, not ${options.ifMatch}: read it again and decide again`,
      { detail: { version: row.version } },
    );
  }
  await checkNamedCertificate(tx, row.id, command);
  const now = deps.clock.now();
  // A finalize carries the device's own report that it erased its key, when it sent one.
  const evidence =
    command.kind === "finalize"
      ? [...(options.evidence ?? []), ...(await erasureEvidence(tx, row.id))]
      : options.evidence;
  const outcome = decide(row, command, acting, { ...options, evidence }, now);
  // Under the row lock the version cannot have moved; the compare-and-set says so if it did.
  if (!(await devices.setLifecycle(deviceId, row.version, outcome.next, now))) {
    throw new KeyfleetError("conflict", `device ${quoted(deviceId)} changed meanwhile; retry`);
  }
  const credentials = await applyEffects(tx, row, outcome.effects, outcome.record);
  const [event] = await recordTransitions(deps, tx, [
    {
      deviceId: row.id,
      record: outcome.record,
      version: outcome.next.version,
      credentials,
      idempotency: { key: options.idempotencyKey, digest },
    },
  ]);
  return { device: deviceOf(afterTransition(row, outcome.next, now)), event: event!, replayed: false };
}

/** The caller's roles and scope, then the policy's forbids, for `command` on the locked `row`. */
export function checkActing(acting: Acting, row: DeviceRow, command: Pick<Command, "kind">): void {
  const { caller, policy, permission } = acting;
  authorize(caller, permission, { attributes: row, deviceId: row.id, what: `device ${quoted(row.id)}` });
  policy.check(
    caller,
    permission === "device.enroll" ? "cert.issue" : permission,
    policyDeviceOf(row),
    command.kind,
    `device ${quoted(row.id)}`,
  );
}

/** The pure transition of `row` by `command`; `invalid-transition` if the lifecycle refuses it. */
export function decide(
  row: DeviceRow,
  command: Command,
  acting: Acting,
  options: Pick<ApplyOptions, "reason" | "evidence">,
  now: Date,
): Extract<ReturnType<typeof transition>, { ok: true }> {
  const outcome = transition(lifecycleOf(row), command, {
    now,
    actor: acting.caller.actor,
    reason: options.reason,
    evidence: options.evidence ?? [],
    policyVersion: acting.policy.version,
    rules: defaultLifecycleRules,
  });
  if (!outcome.ok) {
    throw new KeyfleetError(
      "invalid-transition",
      `cannot ${command.kind} device ${quoted(row.id)}: ${outcome.message}`,
      {
        detail: { reason: outcome.reason, state: row.state },
      },
    );
  }
  return outcome;
}

/** A transition's effects on the device's certificates and hardware identity; what changed. */
export async function applyEffects(
  tx: Tx,
  row: DeviceRow,
  effects: readonly Effect[],
  record: TransitionRecord,
): Promise<CredentialChange[]> {
  const credentials: CredentialChange[] = [];
  for (const effect of effects) {
    if (effect.kind === "tombstone-identity") {
      await tombstoneRepository(tx).bury(
        row.id,
        hardwareIdentities(row.serial_number, row.idevid),
        record.at,
      );
    } else {
      credentials.push(...(await applyCredentialEffect(tx, row.id, effect, record)));
    }
  }
  return credentials;
}

/** The device row as a transition to `next` at `now` leaves it. */
export function afterTransition(row: DeviceRow, next: DeviceLifecycle, now: Date): DeviceRow {
  return { ...row, ...rowOf(next), updated_at: now };
}

/** A decided transition, its device's row written, on its way into history. */
export interface DecidedTransition {
  readonly deviceId: string;
  readonly record: TransitionRecord;
  /** The device's version after it. */
  readonly version: number;
  readonly credentials: readonly CredentialChange[];
  readonly idempotency?: { readonly key: string | undefined; readonly digest: Uint8Array } | undefined;
}

/**
 * The lifecycle event rows, their audit leaves and their outbox events, for any number of
 * transitions in one statement each (the audit leaves in the order given). A rotation's commit
 * also satisfies an operator's request that the device rotate (rotation-requests.ts): it is cleared.
 */
export async function recordTransitions(
  deps: RegistryDeps,
  tx: Tx,
  transitions: readonly DecidedTransition[],
): Promise<LifecycleEvent[]> {
  if (transitions.length === 0) return [];
  const facts = transitions.map((d) => {
    const t = d.record;
    return {
      event: randomUUID(),
      device: d.deviceId,
      command: t.command,
      from: t.from,
      to: t.to,
      version: d.version,
      reason: t.reason,
      evidence: t.evidence.map((e) => ({ ...e })),
      credentials: d.credentials.map((c) => ({ ...c })),
      policyVersion: t.policyVersion,
    };
  });
  const positions = await deps.audit.append(
    tx,
    transitions.map((d, i) => ({
      type: "device.transitioned",
      actor: d.record.actor,
      subject: `device:${d.deviceId}`,
      details: facts[i]!,
      time: d.record.at,
    })),
  );
  const inserted = await lifecycleEventRepository(tx).insertMany(
    transitions.map((d, i) => {
      const t = d.record;
      const key = d.idempotency?.key;
      return {
        id: facts[i]!.event,
        device_id: d.deviceId,
        command: t.command,
        from_state: t.from,
        to_state: t.to,
        version: d.version,
        actor: t.actor,
        reason: t.reason,
        evidence: JSON.stringify(t.evidence),
        effects: JSON.stringify(d.credentials),
        policy_version: t.policyVersion,
        idempotency_key: key ?? null,
        request_digest: key === undefined ? null : d.idempotency!.digest,
        at: t.at,
        audit_index: positions[i]!,
      };
    }),
  );
  await deps.outbox.publish(
    tx,
    transitions.map((d, i) => ({
      position: positions[i]!,
      type: "device.transitioned",
      subject: `device:${d.deviceId}`,
      payload: { ...facts[i]!, at: d.record.at.toISOString() },
    })),
  );
  await rotationRequestRepository(tx).clear(
    transitions.filter((d) => d.record.command === "commit").map((d) => d.deviceId),
  );
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return facts.map((f) => lifecycleEventOf(byId.get(f.event)!));
}

function replay(
  row: DeviceRow,
  earlier: LifecycleEventRow,
  digest: Uint8Array,
  key: string,
): TransitionResult {
  if (!earlier.request_digest || !Buffer.from(earlier.request_digest).equals(digest)) {
    throw new KeyfleetError(
      "conflict",
      `idempotency key ${quoted(key)} was already used for a different command on this device (${earlier.command}, version ${earlier.version}): use a new key for a new command`,
    );
  }
  return { device: deviceOf(row), event: lifecycleEventOf(earlier), replayed: true };
}

/** `issue` and `rotate` name a certificate: it must be a good certificate of this very device. */
async function checkNamedCertificate(tx: Tx, deviceId: string, command: Command): Promise<void> {
  if (command.kind !== "issue" && command.kind !== "rotate") return;
  const serial: unknown = command.kind === "issue" ? command.certificate : command.successor;
  const certificate =
    typeof serial === "string" ? await certificateRepository(tx).ofDevice(deviceId, serial) : undefined;
  if (certificate?.status !== "good") {
    throw new KeyfleetError(
      "invalid-transition",
      `cannot ${command.kind} device ${quoted(deviceId)}: certificate ${quoted(String(serial))} is not a good certificate of it`,
      { detail: { reason: "evidence-required" } },
    );
  }
}

function requestDigest(command: Command, options: ApplyOptions): Uint8Array {
  const asked = JSON.stringify([
    command,
    options.reason ?? null,
    options.evidence ?? [],
    options.ifMatch ?? null,
  ]);
  return createHash("sha256").update(asked).digest();
}

function checkOptions(options: ApplyOptions): void {
  if (options.idempotencyKey !== undefined && !requestIdPattern.test(options.idempotencyKey)) {
    throw new KeyfleetError(
      "malformed-request",
      `an idempotency key is 1–200 printable ASCII characters without spaces, got ${quoted(options.idempotencyKey)}`,
    );
  }
  if (options.reason !== undefined && !reasonPattern.test(options.reason)) {
    throw new KeyfleetError(
      "malformed-request",
      `a reason is 1–${maxReason} characters without control or format characters`,
    );
  }
  for (const e of options.evidence ?? []) {
    const passed = e.passed === undefined || typeof e.passed === "boolean";
    if (
      !evidenceKinds.has(e.kind) ||
      typeof e.ref !== "string" ||
      !/^[\x21-\x7e]{1,200}$/.test(e.ref) ||
      !passed
    ) {
      throw new KeyfleetError(
        "malformed-request",
        `evidence is {kind, ref}: kind one of ${[...evidenceKinds].join(", ")}, ref 1–200 printable ASCII characters`,
      );
    }
  }
}

function rowOf(next: {
  state: DeviceRow["state"];
  version: number;
  successor: string | null;
  graceUntil: Date | null;
}) {
  return {
    state: next.state,
    version: next.version,
    successor_serial: next.successor,
    grace_until: next.graceUntil,
  };
}

export function lifecycleEventOf(row: LifecycleEventRow): LifecycleEvent {
  return {
    id: row.id,
    deviceId: row.device_id,
    command: row.command,
    from: row.from_state,
    to: row.to_state,
    version: row.version,
    actor: row.actor,
    reason: row.reason,
    evidence: row.evidence as EvidenceRef[],
    credentials: row.effects as CredentialChange[],
    policyVersion: row.policy_version,
    at: row.at,
    auditIndex: Number(row.audit_index),
  };
}

/** A lifecycle event as JSON (API and CLI). */
export function lifecycleEventJson(e: LifecycleEvent) {
  return { ...e, at: e.at.toISOString() };
}
export type LifecycleEventJson = ReturnType<typeof lifecycleEventJson>;
