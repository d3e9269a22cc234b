/**
 * Rotation asked for and rotation due (issue 17, atomic rotation). An operator's request that a
 * device rotate (each device a bulk `rotate` job marks) is a recorded fact, not a lifecycle change:
 * who asked, why, when, and when the device is due, with its audit leaf and outbox event in the
 * job page's transaction. The device enters `rotating` itself when it enrolls its new key, and its
 * rotation's commit satisfies the request (recordTransitions clears it). When a device is due is
 * the policy's cadence for its current certificate (domain/renewal-time.ts), or the request's due
 * time when that is sooner; its signed check-in is told so.
 */
import { KeyfleetError, isKeyfleetError, quoted, rotationDueAt, type Validity } from "../domain/index.js";
import { deviceCaller } from "../policy/index.js";
import { deviceRepository, rotationRequestRepository, type Tx } from "../store/index.js";
import { policyDeviceOf } from "./device-record.js";
import type { RegistryDeps } from "./registration.js";
import { checkActing, type Acting } from "./transitions.js";

export interface RotationRequest {
  readonly jobId: string;
  readonly reason: string | undefined;
  /** When the device is due (a rate-limited job spreads these): taken once the device is found active. */
  readonly due: () => Date;
}

/** Marks the (locked) device due for rotation, inside the job page's transaction; refuses one not active. */
export async function requestRotationIn(
  deps: RegistryDeps,
  tx: Tx,
  deviceId: string,
  acting: Acting,
  request: RotationRequest,
): Promise<void> {
  const what = `device ${quoted(deviceId)}`;
  const row = await deviceRepository(tx).byId(deviceId, true);
  if (!row) throw new KeyfleetError("not-found", `no ${what}`);
  checkActing(acting, row, { kind: "rotate" });
  if (row.state !== "active") {
    throw new KeyfleetError(
      "invalid-transition",
      `cannot rotate ${what}: it is ${row.state}; a rotation is requested of an active device`,
      { detail: { reason: "not-allowed-in-state", state: row.state } },
    );
  }
  const at = deps.clock.now();
  const renewAt = request.due();
  const facts = {
    device: row.id,
    job: request.jobId,
    reason: request.reason ?? null,
    renewAt: renewAt.toISOString(),
    policyVersion: acting.policy.version,
  };
  const [position] = await deps.audit.append(tx, [
    {
      type: "device.rotation-requested",
      actor: acting.caller.actor,
      subject: `device:${row.id}`,
      details: facts,
      time: at,
    },
  ]);
  await rotationRequestRepository(tx).put({
    device_id: row.id,
    job_id: request.jobId,
    requested_by: acting.caller.actor,
    reason: request.reason ?? null,
    requested_at: at,
    renew_at: renewAt,
    audit_index: position!,
  });
  await deps.outbox.publish(tx, [
    {
      position: position!,
      type: "device.rotation-requested",
      subject: `device:${row.id}`,
      payload: { ...facts, actor: acting.caller.actor, at: at.toISOString() },
    },
  ]);
}

export interface RotationSchedule {
  /** When the device's current certificate is due for renewal, by the server. */
  readonly renewAt: Date;
  /** Whether an operator asked for the rotation (it stands until the rotation commits). */
  readonly requested: boolean;
}

/**
 * When the device is due to renew the certificate of `validity` (its current one): the policy's
 * cadence (its issuance rule's `rotationDays`, else two thirds of the lifetime), or an operator's
 * request for an active device when that is sooner.
 */
export async function rotationSchedule(
  deps: RegistryDeps,
  deviceId: string,
  validity: Validity,
): Promise<RotationSchedule> {
  const what = `device ${quoted(deviceId)}`;
  const row = await deviceRepository(deps.database.db).byId(deviceId);
  if (!row) throw new KeyfleetError("not-found", `no ${what}`);
  const policy = await deps.policies.current();
  let rotationDays: number | undefined;
  try {
    rotationDays = policy.issuance(deviceCaller(row.id), policyDeviceOf(row), "rotate", what).rotationDays;
  } catch (e) {
    // No rule holds for it (it gets no new certificate at all): the default cadence is all there is.
    if (!isKeyfleetError(e, "forbidden")) throw e;
  }
  const cadence = rotationDueAt(validity, rotationDays);
  const request =
    row.state === "active" ? await rotationRequestRepository(deps.database.db).ofDevice(row.id) : undefined;
  const sooner = request !== undefined && request.renew_at.getTime() < cadence.getTime();
  return { renewAt: sooner ? request.renew_at : cadence, requested: request !== undefined };
}
