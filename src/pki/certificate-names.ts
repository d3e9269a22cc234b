/**
 * The names a certificate gives its subject: the subject DN and the subjectAltName entries, read
 * with the same decoders as a CSR's, so a re-enrollment can ask for exactly the names it holds
 * (RFC 7030 §4.2.2: the subject and subjectAltName of a simplereenroll must be the current ones).
 */
import { tag } from "./der.js";
import { readOnly, readTlv } from "./der-reader.js";
import { decodeName, type DistinguishedName } from "./name.js";
import { oid } from "./oids.js";
import type { ReadCertificate } from "./certificate-reader.js";
import { decodeGeneralNames, type SanEntry } from "./san.js";

export interface CertificateNames {
  readonly subject: DistinguishedName;
  readonly sans: readonly SanEntry[];
}

export function certificateNames(certificate: ReadCertificate): CertificateNames {
  const w = "the certificate's names";
  const subject = decodeName(readTlv(certificate.subject, 0, certificate.subject.length, w), w);
  const san = certificate.extensions.get(oid.subjectAltName);
  const sans = san ? decodeGeneralNames(readOnly(san.value, tag.sequence, w), w) : [];
  return { subject, sans };
}
