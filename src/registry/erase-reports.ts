/**
 * A decommissioning device's report that it erased its key (issue 17 item 5): the device signed
 * the server's nonce and "erased" with its operational key, destroyed the key, then sent the
 * signature (the enrollment module checked it against the certificate). Kept here, in one
 * transaction with the nonce it spends and its audit leaf, as the evidence the device's finalize
 * then carries (`erasure`, which only this module writes: an operator cannot hand it in).
 */
import { randomUUID } from "node:crypto";
import { KeyfleetError, quoted, type EvidenceRef } from "../domain/index.js";
import { authorize, type Caller } from "../policy/index.js";
import { deviceRepository, eraseReportRepository, type Tx } from "../store/index.js";
import type { RegistryDeps } from "./registration.js";

export interface EraseReport {
  readonly deviceId: string;
  /** The certificate whose key signed the report. */
  readonly serial: string;
  readonly signature: Uint8Array;
  /** Spends what the signature covers (its nonce), in the report's transaction. */
  readonly spend: (tx: Tx) => Promise<void>;
}

export interface RecordedEraseReport {
  readonly id: string;
  readonly reportedAt: Date;
  readonly auditIndex: number;
}

export async function recordEraseReport(
  deps: RegistryDeps,
  report: EraseReport,
  caller: Caller,
): Promise<RecordedEraseReport> {
  authorize(caller, "device.enroll");
  return deps.database.transaction(async (tx) => {
    const what = `device ${quoted(report.deviceId)}`;
    const row = await deviceRepository(tx).byId(report.deviceId, true);
    if (!row) throw new KeyfleetError("not-found", `no ${what}`);
    authorize(caller, "device.enroll", { attributes: row, deviceId: row.id, what });
    if (row.state !== "decommissioning") {
      throw new KeyfleetError(
        "invalid-transition",
        `${what} is ${row.state}: only a decommissioning device reports that it erased its key`,
        { detail: { reason: "not-allowed-in-state", state: row.state } },
      );
    }
    await report.spend(tx);
    const id = randomUUID();
    const reportedAt = deps.clock.now();
    const [auditIndex] = await deps.audit.append(tx, [
      {
        type: "device.erase-reported",
        actor: caller.actor,
        subject: `device:${row.id}`,
        details: { report: id, device: row.id, serial: report.serial },
        time: reportedAt,
      },
    ]);
    await eraseReportRepository(tx).insert({
      id,
      device_id: row.id,
      serial: report.serial,
      signature: report.signature,
      reported_at: reportedAt,
      audit_index: auditIndex!,
    });
    return { id, reportedAt, auditIndex: auditIndex! };
  });
}

/** The erase reports of a device, as the evidence its finalize carries. */
export async function erasureEvidence(tx: Tx, deviceId: string): Promise<EvidenceRef[]> {
  return (await eraseReportRepository(tx).ofDevice(deviceId)).map((r) => ({
    kind: "erasure",
    ref: `erase-report:${r.id}`,
    passed: true,
  }));
}

/** Whether the device has reported its erase (its status answer says so). */
export async function hasErased(deps: RegistryDeps, deviceId: string): Promise<boolean> {
  return (await eraseReportRepository(deps.database.db).ofDevice(deviceId)).length > 0;
}
