/**
 * An IDevID is accepted only from a registered manufacturer, and only if it validates (RFC 5280
 * path validation, src/pki) to one of that manufacturer's CA certificates now. The anchors are
 * read once per registration, before its transaction; an enrollment uses those the service keeps,
 * and reads them again before it refuses.
 */
import { KeyfleetError, isKeyfleetError, quoted } from "../domain/index.js";
import { readCertificate, validatePath } from "../pki/index.js";
import { deviceRepository, type DeviceRow } from "../store/index.js";
import { idevidSha256 } from "./hardware-identity.js";
import type { ManufacturerService } from "./manufacturers.js";
import type { RegistryDeps } from "./registration.js";

export type Anchors = ReadonlyMap<string, readonly Uint8Array[] | undefined>;

/** The CA certificates of every manufacturer the devices with an IDevID name. */
export async function anchorsFor(
  manufacturers: ManufacturerService,
  devices: readonly { readonly idevid: Uint8Array | null; readonly manufacturer: string | null }[],
  read: "cached" | "fresh" = "fresh",
): Promise<Anchors> {
  const names = new Set(
    devices.flatMap((d) => (d.idevid !== null && d.manufacturer !== null ? [d.manufacturer] : [])),
  );
  return new Map(
    await Promise.all([...names].map(async (n) => [n, await manufacturers.anchorsOf(n, read)] as const)),
  );
}

/** Refuses an IDevID whose manufacturer is not named or not registered, or that does not validate to it. */
export function checkIdevidTrust(
  device: { readonly idevid: Uint8Array | null; readonly manufacturer: string | null },
  anchors: Anchors,
  at: Date,
): void {
  if (device.idevid === null) return;
  if (device.manufacturer === null) {
    throw new KeyfleetError(
      "unknown-manufacturer",
      "a device with an IDevID names its manufacturer, whose CA certificates the IDevID must validate to",
    );
  }
  const cas = anchors.get(device.manufacturer);
  if (!cas || cas.length === 0) {
    throw new KeyfleetError(
      "unknown-manufacturer",
      `manufacturer ${quoted(device.manufacturer)} is not registered: an IDevID is accepted only from a manufacturer whose CA certificates are (keyfleet manufacturer add)`,
    );
  }
  const result = validatePath(device.idevid, cas, { at });
  if (!result.valid) {
    throw new KeyfleetError(
      "untrusted-idevid",
      `the IDevID does not validate to a CA certificate of manufacturer ${quoted(device.manufacturer)}: ${result.message} (${result.reason})`,
      { detail: { reason: result.reason, depth: result.depth } },
    );
  }
}

/**
 * The registered device a TLS client certificate is the IDevID of (the registry holds the
 * certificate itself, found by its SHA-256: migration 0018's unique index), if it still validates
 * to its manufacturer's CA now and its device is not decommissioned; `unauthorized` otherwise,
 * saying why.
 */
export async function deviceOfIdevid(
  deps: Pick<RegistryDeps, "database" | "manufacturers">,
  certificate: Uint8Array,
  at: Date,
): Promise<DeviceRow> {
  const row = await deviceRepository(deps.database.db).withIdevidSha256(idevidSha256(certificate));
  if (!row) {
    throw new KeyfleetError(
      "unauthorized",
      "the client certificate is neither a Keyfleet certificate nor the registered IDevID of a device (register the device with its IDevID first)",
      { detail: { credential: "client-certificate", reason: "unknown" } },
    );
  }
  if (row.state === "decommissioned") {
    throw new KeyfleetError(
      "unauthorized",
      `the client certificate is the IDevID of device ${quoted(row.id)}, which is decommissioned: a decommissioned hardware identity never enrolls again`,
      { detail: { credential: "idevid", reason: "identity-tombstoned" } },
    );
  }
  await acceptedNow(deps, row, at);
  return row;
}

/**
 * The hardware identity key of device `row` (its IDevID's SubjectPublicKeyInfo), if its IDevID
 * validates to its manufacturer's CA now: what the native enrollment API checks evidence with.
 */
export async function hardwareKeyOf(
  deps: Pick<RegistryDeps, "manufacturers">,
  row: DeviceRow,
  at: Date,
): Promise<Uint8Array> {
  if (row.idevid === null) {
    throw new KeyfleetError(
      "unauthorized",
      `device ${quoted(row.id)} has no registered IDevID, so no hardware key to check evidence with: enroll it with a bootstrap token`,
      { detail: { credential: "evidence", reason: "no-hardware-key" } },
    );
  }
  await acceptedNow(deps, row, at);
  return readCertificate(row.idevid).subjectPublicKeyInfo;
}

/** A registered IDevID is accepted at enrollment only while it still validates to its manufacturer. */
async function acceptedNow(
  deps: Pick<RegistryDeps, "manufacturers">,
  row: DeviceRow,
  at: Date,
): Promise<void> {
  try {
    try {
      checkIdevidTrust(row, await anchorsFor(deps.manufacturers, [row], "cached"), at);
    } catch (e) {
      // Anchors only grow: what the kept ones refuse, the current ones may accept.
      if (!isKeyfleetError(e)) throw e;
      checkIdevidTrust(row, await anchorsFor(deps.manufacturers, [row], "fresh"), at);
    }
  } catch (e) {
    if (!isKeyfleetError(e)) throw e;
    throw new KeyfleetError(
      "unauthorized",
      `the IDevID of device ${quoted(row.id)} is not accepted: ${e.message}`,
      { detail: { credential: "idevid", reason: e.code } },
    );
  }
}
