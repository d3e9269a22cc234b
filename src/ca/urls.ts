/**
 * Where relying parties find an issuer's certificate, CRL and OCSP responder. Certificates carry
 * these URLs (RFC 5280 §4.2.1.13 CRL distribution points, §4.2.2.1 authority information access),
 * so the HTTP routes serve exactly these paths. The delta CRL's URL is in the full CRL (Freshest
 * CRL, §5.2.6), not in the certificates.
 */
import type { RevocationUrls } from "../pki/index.js";

export interface IssuerUrls extends RevocationUrls {
  readonly deltaCrl: string;
}

export function issuerUrls(publicUrl: string, issuerId: string): IssuerUrls {
  return {
    caIssuers: `${publicUrl}/ca/${issuerId}.cer`,
    crl: `${publicUrl}/crl/${issuerId}.crl`,
    deltaCrl: `${publicUrl}/crl/${issuerId}-delta.crl`,
    ocsp: `${publicUrl}/ocsp`,
  };
}
