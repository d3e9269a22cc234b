/**
 * A device's hardware identity as the tombstones know it: its serial, the SHA-256 of its IDevID
 * certificate and of that certificate's public key. A decommissioned device's identities are
 * buried; registering any of them again, in any tenant, is refused.
 */
import { X509Certificate, createHash } from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { HardwareIdentity, TombstoneRepository } from "../store/index.js";

const hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export function hardwareIdentities(serialNumber: string, idevid: Uint8Array | null): HardwareIdentity[] {
  const identities: HardwareIdentity[] = [{ kind: "serial", value: serialNumber }];
  if (idevid !== null) {
    identities.push({ kind: "idevid-sha256", value: hex(idevid) });
    identities.push({ kind: "public-key-sha256", value: hex(spkiOf(idevid)) });
  }
  return identities;
}

/** Refuses a registration that names a tombstoned identity. */
export async function refuseTombstoned(
  tombstones: TombstoneRepository,
  identities: readonly HardwareIdentity[],
): Promise<void> {
  const buried = await tombstones.find(identities);
  if (!buried) return;
  const what = { serial: "serial", "idevid-sha256": "IDevID certificate", "public-key-sha256": "public key" }[
    buried.kind
  ];
  throw new KeyfleetError(
    "identity-tombstoned",
    `this ${what} belonged to device ${quoted(buried.device_id)}, decommissioned at ${buried.at.toISOString()}; a decommissioned hardware identity is never registered again`,
    { detail: { device: buried.device_id, identity: buried.kind } },
  );
}

/** The IDevID's SubjectPublicKeyInfo (the IDevID was parsed and checked at registration). */
function spkiOf(certificate: Uint8Array): Uint8Array {
  return new X509Certificate(certificate).publicKey.export({ type: "spki", format: "der" });
}
