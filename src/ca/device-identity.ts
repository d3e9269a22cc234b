/**
 * What a device record must hold for the CA to name it in a certificate. The registry asks here
 * (it does not reach into pki): a serial becomes the subject's CN and serialNumber (IEEE 802.1AR).
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import { checkName, derOrPem } from "../pki/index.js";

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
