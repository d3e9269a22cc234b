/**
 * Where relying parties find an issuer's certificate, CRL and OCSP responder. Certificates carry
 * these URLs (RFC 5280 §4.2.1.13 CRL distribution points, §4.2.2.1 authority information access),
 * so the HTTP routes serve exactly these paths.
 */
import type { RevocationUrls } from "../pki/index.js";

export function issuerUrls(publicUrl: string, issuerId: string): RevocationUrls {
  return {
    caIssuers: `${publicUrl}/ca/${issuerId}.cer`,
    crl: `${publicUrl}/crl/${issuerId}.crl`,
    ocsp: `${publicUrl}/ocsp`,
  };
}
