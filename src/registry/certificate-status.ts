/**
 * An operator revokes a certificate, or holds or releases one bound to no device (issue 17): who
 * may is decided here — the `cert.revoke` permission and, for a device's certificate, a scope that
 * covers the device — and the authority writes the record (ca/revocation.ts). A device's holds
 * follow its lifecycle (suspend puts every credential on hold, resume lifts it): holding or
 * releasing one of its certificates by hand would leave a suspended device with a good credential,
 * so that is refused with the command to use.
 */
import { changeStatus, type StatusOutcome, type StatusRequest } from "../ca/index.js";
import { KeyfleetError, quoted, type EvidenceRef } from "../domain/index.js";
import { serialFromHex, serialToHex } from "../pki/index.js";
import { authorize, listScope, type Caller } from "../policy/index.js";
import { deviceRepository, revocationRepository } from "../store/index.js";
import type { RegistryDeps } from "./registration.js";

export interface StatusOptions {
  readonly invalidityDate?: Date | undefined;
  readonly comment?: string | undefined;
  readonly evidence?: readonly EvidenceRef[] | undefined;
}

export async function changeCertificateStatus(
  deps: RegistryDeps,
  serialHex: string,
  request: StatusRequest,
  caller: Caller,
  options: StatusOptions = {},
): Promise<StatusOutcome> {
  authorize(caller, "cert.revoke");
  const serial = serialToHex(serialFromHex(serialHex));
  const now = deps.clock.now();
  checkInvalidityDate(request, options.invalidityDate, now);
  return deps.database.transaction(async (tx) => {
    const row = await revocationRepository(tx).lockBySerial(serial);
    const what = `certificate ${serial}`;
    if (!row) throw new KeyfleetError("not-found", `no certificate with serial ${serial}`);
    if (row.device_id === null) {
      // Bound to no device, it is in no scope: only an unscoped caller sees it.
      if (listScope(caller) !== undefined)
        throw new KeyfleetError("not-found", `no certificate with serial ${serial}`);
    } else {
      const device = (await deviceRepository(tx).byId(row.device_id))!; // a foreign key
      authorize(caller, "cert.revoke", { attributes: device, deviceId: row.device_id, what });
      const holding = request.action === "release" || request.reason === "certificateHold";
      if (holding && row.status !== "revoked") {
        const command = request.action === "release" ? "resume" : "suspend";
        throw new KeyfleetError(
          "invalid-transition",
          `${what} is device ${quoted(row.device_id)}'s: its holds follow the device's lifecycle (keyfleet device ${command} ${row.device_id})`,
        );
      }
    }
    return changeStatus(deps, tx, row, {
      request,
      actor: caller.actor,
      at: now,
      invalidityDate: options.invalidityDate,
      evidence: options.evidence,
      comment: options.comment,
    });
  });
}

function checkInvalidityDate(request: StatusRequest, date: Date | undefined, now: Date): void {
  if (date === undefined) return;
  if (request.action !== "revoke" || request.reason === "certificateHold") {
    throw new KeyfleetError("malformed-request", "an invalidity date goes with a revocation, not a hold");
  }
  if (Number.isNaN(date.getTime()) || date.getTime() > now.getTime()) {
    throw new KeyfleetError(
      "malformed-request",
      "the invalidity date is when the key was (or may have been) compromised: a time in the past",
    );
  }
}
