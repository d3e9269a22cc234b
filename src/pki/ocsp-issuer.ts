/**
 * What an OCSP CertID names its issuer by (RFC 6960 §4.1.1): the hash of the issuer's subject Name
 * DER and of its subjectPublicKey BIT STRING contents, in SHA-1 and SHA-256, computed once per CA
 * so a request is matched to its issuer by comparing bytes.
 */
import { createHash } from "node:crypto";
import { readCertificate } from "./certificate-reader.js";
import type { CertIdHash } from "./ocsp-request.js";
import { readSubjectPublicKeyInfo } from "./spki.js";

export type IssuerHashes = Readonly<
  Record<CertIdHash, { readonly nameHash: Uint8Array; readonly keyHash: Uint8Array }>
>;

export function ocspIssuerHashes(issuerCertificate: Uint8Array): IssuerHashes {
  const certificate = readCertificate(issuerCertificate);
  const key = readSubjectPublicKeyInfo(certificate.subjectPublicKeyInfo, "the issuer's public key").key;
  const both = (hash: CertIdHash) => ({
    nameHash: new Uint8Array(createHash(hash).update(certificate.subject).digest()),
    keyHash: new Uint8Array(createHash(hash).update(key).digest()),
  });
  return { sha1: both("sha1"), sha256: both("sha256") };
}
