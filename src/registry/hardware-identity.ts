/**
 * A device's hardware identity: its serial, the SHA-256 of its IDevID certificate and of that
 * certificate's public key. Each is one device's, in every tenant; the database holds them unique
 * (migration 0018), decommissioned devices included, so a decommissioned device's identities
 * (tombstoned when it is finalized) are never registered again.
 */
import { X509Certificate, createHash } from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";
import { scopeCovers, type Caller } from "../policy/index.js";
import type { Collision, HardwareIdentity } from "../store/index.js";

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The identities as tombstones record them (hex digests). */
export function hardwareIdentities(
  serialNumber: string,
  idevid: Uint8Array | null,
  publicKey: Uint8Array | null = idevid && publicKeySha256(idevid),
): HardwareIdentity[] {
  const identities: HardwareIdentity[] = [{ kind: "serial", value: serialNumber }];
  if (idevid !== null) identities.push({ kind: "idevid-sha256", value: hex(sha256(idevid)) });
  if (publicKey !== null) identities.push({ kind: "public-key-sha256", value: hex(publicKey) });
  return identities;
}

/** SHA-256 of the IDevID's SubjectPublicKeyInfo (the IDevID was parsed and checked at registration). */
export function publicKeySha256(idevid: Uint8Array): Uint8Array {
  return sha256(new X509Certificate(idevid).publicKey.export({ type: "spki", format: "der" }));
}

export function idevidSha256(idevid: Uint8Array): Uint8Array {
  return sha256(idevid);
}

const named: Record<HardwareIdentity["kind"], (serial: string) => string> = {
  serial: (serial) => `serial ${quoted(serial)}`,
  "idevid-sha256": () => "this IDevID certificate",
  "public-key-sha256": () => "this IDevID's public key",
};

/**
 * The refusal of a registration whose identity a device already holds: `identity-tombstoned` if
 * that device is decommissioned, `conflict` otherwise. It names the holder only to a caller whose
 * scope covers it; to others it says what collided, not where.
 */
export function collisionRefusal(collision: Collision, caller: Caller, serial: string): KeyfleetError {
  const { holder, identity } = collision;
  const what = named[identity](serial);
  const visible = caller.device === undefined && scopeCovers(caller.scopes, holder);
  const detail = { identity, ...(visible ? { device: holder.id } : {}) };
  if (holder.state === "decommissioned") {
    const whose = visible
      ? `device ${quoted(holder.id)}, decommissioned at ${holder.updated_at.toISOString()}`
      : "a decommissioned device";
    return new KeyfleetError(
      "identity-tombstoned",
      `${what} belonged to ${whose}; a decommissioned hardware identity is never registered again`,
      { detail },
    );
  }
  const where = visible
    ? `device ${quoted(holder.id)} in tenant ${quoted(holder.tenant)}`
    : "a device outside this caller's scope";
  return new KeyfleetError("conflict", `${what} is already registered, to ${where}`, { detail });
}
