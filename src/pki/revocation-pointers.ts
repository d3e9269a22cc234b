/**
 * Where a certificate says its revocation status is published: the URIs of its CRL distribution
 * points (RFC 5280 §4.2.1.13, the fullName of each) and of the OCSP responders in its authority
 * information access (§4.2.2.1, id-ad-ocsp). A relying party, or the device itself, finds them
 * from the certificate alone.
 */
import { tag } from "./der.js";
import { children, expect, readOid, readOnly, readString, type Tlv } from "./der-reader.js";
import type { ReadCertificate } from "./certificate-reader.js";
import { oid } from "./oids.js";

export interface RevocationPointers {
  readonly crl: readonly string[];
  readonly ocsp: readonly string[];
}

const what = "the certificate's revocation pointers";
/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String. */
const uriTag = 0x86;

const uri = (t: Tlv): string | undefined =>
  t.tag === uriTag ? readString({ ...t, tag: tag.ia5String }, what) : undefined;

/**
 * The URIs of a DistributionPointName's fullName ([0] GeneralNames): a CRL distribution point's in
 * a certificate, or a CRL's own scope in its Issuing Distribution Point (§5.2.5).
 */
export function distributionPointUris(point: Tlv | undefined): string[] {
  const fullName = point && children(point, what).find((f) => f.tag === 0xa0);
  const uris: string[] = [];
  for (const general of fullName ? children(fullName, what) : []) {
    const found = uri(general);
    if (found !== undefined) uris.push(found);
  }
  return uris;
}

export function revocationPointers(certificate: Pick<ReadCertificate, "extensions">): RevocationPointers {
  const crl: string[] = [];
  const ocsp: string[] = [];
  const cdp = certificate.extensions.get(oid.cRLDistributionPoints);
  if (cdp) {
    for (const point of children(readOnly(cdp.value, tag.sequence, what), what)) {
      // DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, … }
      const name = children(expect(point, tag.sequence, what), what).find((f) => f.tag === 0xa0);
      crl.push(...distributionPointUris(name));
    }
  }
  const aia = certificate.extensions.get(oid.authorityInfoAccess);
  if (aia) {
    for (const access of children(readOnly(aia.value, tag.sequence, what), what)) {
      const [method, location] = children(expect(access, tag.sequence, what), what);
      if (!method || !location || readOid(method, what) !== oid.accessOcsp) continue;
      const found = uri(location);
      if (found !== undefined) ocsp.push(found);
    }
  }
  return { crl, ocsp };
}
