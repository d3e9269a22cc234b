/**
 * What a device record must hold for the CA to name it in a certificate. The registry asks here
 * (it does not reach into pki): a serial becomes the subject's CN and serialNumber (IEEE 802.1AR).
 */
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

/** An IDevID certificate given as DER or PEM, as DER. */
export function idevidDer(input: Uint8Array | string): Uint8Array {
  return derOrPem(input, "CERTIFICATE");
}
