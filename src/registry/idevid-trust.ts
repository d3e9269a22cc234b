/**
 * An IDevID is accepted only from a registered manufacturer, and only if it validates (RFC 5280
 * path validation, src/pki) to one of that manufacturer's CA certificates now. The anchors are
 * read once per registration, before its transaction.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import { validatePath } from "../pki/index.js";
import type { ManufacturerService } from "./manufacturers.js";

export type Anchors = ReadonlyMap<string, readonly Uint8Array[] | undefined>;

/** The CA certificates of every manufacturer the devices with an IDevID name. */
export async function anchorsFor(
  manufacturers: ManufacturerService,
  devices: readonly { readonly idevid: Uint8Array | null; readonly manufacturer: string | null }[],
): Promise<Anchors> {
  const names = new Set(
    devices.flatMap((d) => (d.idevid !== null && d.manufacturer !== null ? [d.manufacturer] : [])),
  );
  return new Map(
    await Promise.all([...names].map(async (n) => [n, await manufacturers.anchorsOf(n)] as const)),
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
