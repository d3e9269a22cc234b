/**
 * A device authenticating with a certificate Keyfleet issued it (EST simplereenroll, RFC 7030
 * §3.3.2; and its first use of a new credential, which confirms it). The certificate is looked up
 * as presented, by the SHA-256 of its DER: a row with those exact bytes is a certificate this
 * authority signed, so no chain needs building. It must be bound to a device (so it names the
 * device's URN, without which it is not looked up), good (not on hold, not revoked) and within its
 * validity. A device's report to the server (its status, its erase report) may also come with a
 * certificate on hold (a retiring device's are, and it must still learn that it is to erase), or
 * revoked when the device is decommissioned (it was finalized while offline: it is still to erase).
 */
import { createHash } from "node:crypto";
import { namesKeyfleetUrn } from "../ca/index.js";
import { KeyfleetError, type Clock } from "../domain/index.js";
import { certificateRepository, deviceRepository, type Database, type DeviceRow } from "../store/index.js";

export interface OperationalCredential {
  readonly device: DeviceRow;
  readonly serial: string;
  readonly subject: string;
  readonly sans: readonly string[];
}

export async function deviceOfCertificate(
  deps: { readonly database: Database; readonly clock: Clock },
  certificate: Uint8Array,
  purpose: "authenticate" | "report" = "authenticate",
): Promise<OperationalCredential | undefined> {
  // An IDevID names no Keyfleet URN: no round trip to find it is not ours.
  if (!namesKeyfleetUrn(certificate)) return undefined;
  const fingerprint = createHash("sha256").update(certificate).digest();
  const row = await certificateRepository(deps.database.db).byFingerprint(fingerprint);
  if (!row) return undefined; // not ours: perhaps an IDevID
  const refused = (reason: string, message: string) =>
    new KeyfleetError("unauthorized", `the client certificate (serial ${row.serial}) ${message}`, {
      detail: { credential: "certificate", reason },
    });
  if (row.device_id === null) throw refused("unbound", "is bound to no device");
  const reporting = purpose === "report" && row.status !== "good";
  if (row.status !== "good" && !reporting)
    throw refused(row.status, `is ${row.status === "hold" ? "on hold" : "revoked"}`);
  const now = deps.clock.now().getTime();
  if (now < row.not_before.getTime() || now >= row.not_after.getTime()) {
    throw now < row.not_before.getTime()
      ? refused("not-yet-valid", `is not valid before ${row.not_before.toISOString()}`)
      : refused(
          "expired",
          `expired at ${row.not_after.toISOString()}: an expired certificate renews nothing; re-authenticate with the device's IDevID or a new bootstrap token`,
        );
  }
  const device = await deviceRepository(deps.database.db).byId(row.device_id);
  if (!device) throw refused("unbound", "names a device that does not exist");
  if (row.status === "revoked" && device.state !== "decommissioned") throw refused("revoked", "is revoked");
  return { device, serial: row.serial, subject: row.subject, sans: row.sans as string[] };
}
