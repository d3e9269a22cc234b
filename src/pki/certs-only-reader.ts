/**
 * Reads a certs-only CMS SignedData (RFC 5652 §5, the "degenerate" form of RFC 7030 §4.1.3 and
 * §4.2.3: no signers, no content, only certificates), which EST answers /cacerts and
 * /simpleenroll with. Certificates come back as the exact DER octets the server sent, each read as
 * a certificate (certificate-reader.ts), in the order given. Strict DER, like the rest of pki:
 * openssl crl2pkcs7 and @peculiar/asn1-cms both write DER; a BER answer is refused, not guessed at.
 */
import { tag } from "./der.js";
import { children, expect, malformed, raw, readOid, readOnly, type Tlv } from "./der-reader.js";
import { readCertificate, type ReadCertificate } from "./certificate-reader.js";

const what = "the certs-only CMS message";
const idSignedData = "1.2.840.113549.1.7.2"; // RFC 5652 §5.1
/** A chain longer than this is not a chain: a bound before each certificate is read. */
const maxCertificates = 32;

/** The certificates of a certs-only SignedData (ContentInfo, DER), in the order the server sent them. */
export function readCertsOnly(der: Uint8Array): ReadCertificate[] {
  const [contentType, content, ...extra] = children(readOnly(der, tag.sequence, what), what);
  if (!contentType || !content || extra.length) throw malformed(what, "ContentInfo has the wrong shape");
  if (readOid(contentType, what) !== idSignedData) throw malformed(what, "the content is not SignedData");
  const [signedData, ...more] = children(expect(content, 0xa0, what), what);
  if (!signedData || more.length) throw malformed(what, "bad [0] content");
  const fields = children(expect(signedData, tag.sequence, what), what);
  // version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos
  const certificateSet = fields.find((f: Tlv) => f.tag === 0xa0);
  if (fields.length < 4 || !certificateSet) throw malformed(what, "SignedData holds no certificates");
  const choices = children(certificateSet, what);
  if (choices.length > maxCertificates) throw malformed(what, `more than ${maxCertificates} certificates`);
  // CertificateChoices (§10.2.2): only `certificate` (a SEQUENCE) is an X.509 certificate; the
  // obsolete and attribute-certificate choices are tagged [0]…[3] and carry nothing EST uses.
  const certificates = choices
    .filter((c) => c.tag === tag.sequence)
    .map((c) => readCertificate(raw(c).slice()));
  if (certificates.length === 0) throw malformed(what, "SignedData holds no X.509 certificate");
  return certificates;
}
