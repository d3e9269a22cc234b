/**
 * How a certificate names a device. The registry is the authority: a device-bound certificate
 * takes its subject CN and serialNumber (IEEE 802.1AR §8.6) from the device record and a URI SAN
 * naming the record. No CSR may claim a device identity the registry did not give it: a CSR's
 * `urn:keyfleet:device:` URI (other than the bound device's own) or, on a bound certificate, a
 * hardwareModuleName whose serial is not the device's, is refused; so is any other URI in the
 * `urn:keyfleet:` namespace, and, on a certificate bound to no device, a subject CN or serialNumber
 * or a hardwareModuleName that is a registered device's serial. Otherwise a certificate could name
 * a device that its record does not list (retiring the device would miss it; a broker that maps CN
 * to a device, as Mosquitto's use_identity_as_username does, would take it for that device), or a
 * device of another tenant than the caller's scope allows.
 *
 * The URI `urn:keyfleet:device:<id>` names the registry record, which is what relying parties
 * (brokers, ACLs) map a certificate to; it is valid RFC 3986 and RFC 8141 syntax. pkilint reports
 * `pkix.invalid_uri_syntax` for it because its validator accepts URLs only (every URN fails), a
 * limit of the linter. The HardwareModuleName otherName (RFC 4108 §5) would need a hwType OID per
 * device model, which the registry does not hold; a device's CSR may carry one with its own serial.
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import {
  certificateNames,
  checkName,
  derOrPem,
  formatSan,
  readCertificate,
  type DistinguishedName,
  type SanEntry,
} from "../pki/index.js";
import type { DeviceRow } from "../store/index.js";

const DEVICE_URN_PREFIX = "urn:keyfleet:device:";
const KEYFLEET_URN_PREFIX = "urn:keyfleet:";

export function deviceUrn(deviceId: string): string {
  return DEVICE_URN_PREFIX + deviceId;
}

/**
 * Whether a certificate (DER) names anything in Keyfleet's URN namespace: every certificate this
 * authority binds to a device does (deviceNames writes the device's URN), so one that does not is
 * no device's Keyfleet certificate, and need not be looked up as one. Unreadable: false.
 */
export function namesKeyfleetUrn(certificate: Uint8Array): boolean {
  try {
    return certificateNames(readCertificate(certificate)).sans.some(isKeyfleetUrn);
  } catch {
    return false;
  }
}

/**
 * A URI in Keyfleet's URN namespace. RFC 8141 §3.1: the "urn" scheme and the namespace identifier
 * compare without regard to case; the whole namespace is the registry's to write, so a spelling a
 * relying party might normalize to a device URN (`urn:keyfleet:%64evice:…`) is caught too.
 */
function isKeyfleetUrn(s: SanEntry): s is SanEntry & { type: "uri" } {
  return (
    s.type === "uri" && s.value.slice(0, KEYFLEET_URN_PREFIX.length).toLowerCase() === KEYFLEET_URN_PREFIX
  );
}

/** The hardware serials a request names without a device: subject CN and serialNumber, hardwareModuleName. */
export function claimedSerials(subject: DistinguishedName, sans: readonly SanEntry[]): string[] {
  const fromSubject = subject.filter((a) => a.type === "CN" || a.type === "serialNumber").map((a) => a.value);
  const fromSans = sans.flatMap((s) =>
    s.type === "hardwareModuleName" ? [Buffer.from(s.hwSerialNum, "hex").toString("utf8")] : [],
  );
  return [...new Set([...fromSubject, ...fromSans])];
}

/** Refuses an unbound certificate that would name `device` by its serial. */
export function refuseSerialClaim(device: Pick<DeviceRow, "id" | "serial_number">): never {
  throw new KeyfleetError(
    "profile-violation",
    `the CSR names ${device.serial_number}, the serial of registered device ${device.id}: bind the certificate to that device (--device) instead`,
  );
}

function claimRefused(s: SanEntry, why: string): KeyfleetError {
  return new KeyfleetError("profile-violation", `the CSR's subject alternative name ${formatSan(s)} ${why}`);
}

/** The SANs of an unbound certificate: a device URN may be written by the registry alone. */
export function withoutDeviceClaims(sans: readonly SanEntry[]): SanEntry[] {
  const claim = sans.find(isKeyfleetUrn);
  if (claim) {
    throw claimRefused(
      claim,
      "is in the urn:keyfleet: namespace, which only the registry writes (bind the certificate to a device with --device)",
    );
  }
  return [...sans];
}

/** Subject and SANs of a certificate bound to `device`: the record's, plus the CSR's other names. */
export function deviceNames(
  device: { readonly id: string; readonly serialNumber: string },
  csrSans: readonly SanEntry[],
): { subject: DistinguishedName; sans: SanEntry[] } {
  const own = deviceUrn(device.id);
  const serialHex = Buffer.from(device.serialNumber, "utf8").toString("hex");
  for (const s of csrSans) {
    if (isKeyfleetUrn(s) && s.value !== own) throw claimRefused(s, `is not device ${device.id}'s`);
    if (s.type === "hardwareModuleName" && s.hwSerialNum.toLowerCase() !== serialHex) {
      throw claimRefused(
        s,
        `names another hardware serial than device ${device.id}'s (${device.serialNumber})`,
      );
    }
  }
  return {
    subject: [
      { type: "CN", value: device.serialNumber },
      { type: "serialNumber", value: device.serialNumber },
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
