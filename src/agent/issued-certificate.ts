/**
 * Checks on what a server issued before the agent installs it: the first certificate is for the
 * key the CSR was made with (RFC 7030 §4.2.3 says the response holds the issued certificate; a
 * server that answers someone else's would leave the device unable to use it), and what status
 * shows of it.
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError, renewalTime } from "../domain/index.js";

export interface CertificateStatus {
  readonly subject: string;
  /** Hex, as openssl prints it. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly renewAt: Date;
}

/** What enroll and renew answer: the new certificate, and whether the server has seen it in use. */
export interface InstalledCertificate extends CertificateStatus {
  /** False for a key in a token, or when the request failed: the device's next request confirms it. */
  readonly confirmed: boolean;
}

export function checkIssuedFor(certificates: readonly Uint8Array[], publicKey: Uint8Array): void {
  const leaf = certificates[0];
  const spki = leaf && new X509Certificate(leaf).publicKey.export({ format: "der", type: "spki" });
  if (!spki || !spki.equals(Buffer.from(publicKey))) {
    throw new KeyfleetError(
      "malformed-request",
      "the server's answer does not start with a certificate for the device's new key",
    );
  }
}

export function certificateStatus(leaf: Uint8Array, renewalFraction: number): CertificateStatus {
  const cert = new X509Certificate(leaf);
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    serial: cert.serialNumber,
    notBefore,
    notAfter,
    renewAt: renewalTime({ notBefore, notAfter }, renewalFraction),
  };
}
