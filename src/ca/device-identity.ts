/**
 * How a certificate names a device. The registry is the authority: a device-bound certificate
 * takes its subject CN and serialNumber (IEEE 802.1AR §8.6) from the device record and a URI SAN
 * naming the record. No CSR may claim a device identity the registry did not give it: a CSR's
 * `urn:keyfleet:device:` URI (other than the bound device's own) or, on a bound certificate, a
 * hardwareModuleName whose serial is not the device's, is refused. Otherwise a certificate could
 * name a device that its record does not list (retiring the device would miss it), or a device of
 * another tenant than the caller's scope allows.
 *
 * The URI `urn:keyfleet:device:<id>` names the registry record, which is what relying parties
 * (brokers, ACLs) map a certificate to; it is valid RFC 3986 and RFC 8141 syntax. pkilint reports
 * `pkix.invalid_uri_syntax` for it because its validator accepts URLs only (every URN fails), a
 * limit of the linter. The HardwareModuleName otherName (RFC 4108 §5) would need a hwType OID per
 * device model, which the registry does not hold; a device's CSR may carry one with its own serial.
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import { checkName, derOrPem, formatSan, type DistinguishedName, type SanEntry } from "../pki/index.js";
import type { DeviceRow } from "../store/index.js";

const DEVICE_URN_PREFIX = "urn:keyfleet:device:";

export function deviceUrn(deviceId: string): string {
  return DEVICE_URN_PREFIX + deviceId;
}

/** RFC 8141 §3.1: the "urn" scheme and the namespace identifier compare without regard to case. */
function isDeviceUrn(s: SanEntry): s is SanEntry & { type: "uri" } {
  return s.type === "uri" && s.value.slice(0, DEVICE_URN_PREFIX.length).toLowerCase() === DEVICE_URN_PREFIX;
}

function claimRefused(s: SanEntry, why: string): KeyfleetError {
  return new KeyfleetError("profile-violation", `the CSR's subject alternative name ${formatSan(s)} ${why}`);
}

/** The SANs of an unbound certificate: a device URN may be written by the registry alone. */
export function withoutDeviceClaims(sans: readonly SanEntry[]): SanEntry[] {
  const claim = sans.find(isDeviceUrn);
  if (claim) {
    throw claimRefused(claim, "names a registered device; only a certificate bound to it (--device) may");
  }
  return [...sans];
}

/** Subject and SANs of a certificate bound to `device`: the record's, plus the CSR's other names. */
export function deviceNames(
  device: Pick<DeviceRow, "id" | "serial_number">,
  csrSans: readonly SanEntry[],
): { subject: DistinguishedName; sans: SanEntry[] } {
  const own = deviceUrn(device.id);
  const serialHex = Buffer.from(device.serial_number, "utf8").toString("hex");
  for (const s of csrSans) {
    if (isDeviceUrn(s) && s.value !== own) throw claimRefused(s, `is not device ${device.id}'s`);
    if (s.type === "hardwareModuleName" && s.hwSerialNum.toLowerCase() !== serialHex) {
      throw claimRefused(
        s,
        `names another hardware serial than device ${device.id}'s (${device.serial_number})`,
      );
    }
  }
  return {
    subject: [
      { type: "CN", value: device.serial_number },
      { type: "serialNumber", value: device.serial_number },
    ],
    sans: [{ type: "uri", value: own }, ...csrSans.filter((s) => !(s.type === "uri" && s.value === own))],
  };
}

export function checkDeviceSerial(serialNumber: string): void {
  try {
    checkName([
      { type: "CN", value: serialNumber },
      { type: "serialNumber", value: serialNumber },
    ]);
  } catch (e) {
    throw new KeyfleetError(
      "malformed-request",
      `device serial "${serialNumber}" cannot name a certificate: ${(e as Error).message}`,
    );
  }
}

/**
 * An IDevID certificate given as DER or PEM, as DER. It must parse as one X.509 certificate and
 * nothing more: `derOrPem` only looks at the first octet, and a record that merely starts like a
 * certificate would later fail whoever verifies against it.
 */
export function idevidDer(input: Uint8Array | string): Uint8Array {
  const der = derOrPem(input, "CERTIFICATE");
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(der);
  } catch (e) {
    // OpenSSL's own message names its last attempt (PEM: "no start line"), not what is wrong.
    throw new KeyfleetError(
      "malformed-request",
      `the IDevID is not an X.509 certificate: its ${der.length} bytes of DER do not parse as one`,
      { cause: e },
    );
  }
  // OpenSSL reads the first certificate and ignores what follows it; we keep the bytes as given.
  if (parsed.raw.length !== der.length) {
    throw new KeyfleetError(
      "malformed-request",
      `the IDevID has ${der.length - parsed.raw.length} bytes after the certificate`,
    );
  }
  return der;
}
