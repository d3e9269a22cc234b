/**
 * A device shows it holds its new credential by using it (DESIGN §3): its first authenticated
 * request with the certificate it was issued moves it provisioned → active (`confirm`), and with a
 * pending successor, rotating → active (`commit`, which revokes the predecessor as superseded).
 * The TLS handshake that authenticated the request is the proof of possession.
 */
import type { CertificateSerial, Command, EvidenceRef } from "../domain/index.js";
import { authorize, type Caller } from "../policy/index.js";
import type { Kysely } from "kysely";
import { certificateRepository, deviceRepository, type Tables } from "../store/index.js";
import { deviceOf, type Device } from "./device-record.js";
import type { RegistryDeps } from "./registration.js";
import { applyIn } from "./transitions.js";

/**
 * Confirms or commits `serial` if it is what the device's state waits for; otherwise changes
 * nothing. Answers the device as it is after.
 */
export async function confirmCredential(
  deps: RegistryDeps,
  deviceId: string,
  serial: string,
  caller: Caller,
  evidence: readonly EvidenceRef[],
): Promise<Device | undefined> {
  authorize(caller, "device.enroll");
  const devices = deviceRepository(deps.database.db);
  const before = await devices.byId(deviceId);
  if (!before || !(await awaited(deps.database.db, before, serial))) return before && deviceOf(before);
  const policy = await deps.policies.current();
  return deps.database.transaction(async (tx) => {
    const row = await deviceRepository(tx).byId(deviceId, true);
    if (!row || !(await awaited(tx, row, serial))) return row && deviceOf(row); // another request confirmed it
    const command: Command = row.state === "provisioned" ? { kind: "confirm" } : { kind: "commit" };
    const acting = { caller, policy, permission: "device.enroll" as const };
    return (await applyIn(deps, tx, deviceId, command, acting, { evidence })).device;
  });
}

/** Reads through `db`: inside the transaction, its own (PGlite has one connection). */
async function awaited(
  db: Kysely<Tables>,
  row: { id: string; state: string; successor_serial: string | null },
  serial: string,
): Promise<boolean> {
  if (row.state === "rotating") return row.successor_serial === (serial as CertificateSerial);
  if (row.state !== "provisioned") return false;
  const certificate = await certificateRepository(db).ofDevice(row.id, serial);
  return certificate?.status === "good";
}
