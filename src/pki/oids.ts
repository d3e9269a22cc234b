/**
 * The object identifiers pki writes and reads, in one place so the writer and the reader agree.
 * Sources: RFC 5280 §4.2 (extensions), RFC 5280 App. A (attribute types), RFC 2985 (PKCS#9),
 * RFC 4108 §5 (hardwareModuleName), RFC 6960 §4.2.2.2.1 (ocsp-nocheck), RFC 5480 / RFC 8410 (keys),
 * RFC 6960 §4.2.1 and §4.4 (OCSP response type and extensions), RFC 9654 (OCSP nonce).
 */
export const oid = {
  // Extensions (RFC 5280 §4.2.1, §4.2.2)
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLDistributionPoints: "2.5.29.31",
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  invalidityDate: "2.5.29.24",
  deltaCRLIndicator: "2.5.29.27",
  issuingDistributionPoint: "2.5.29.28",
  freshestCRL: "2.5.29.46",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
  // OCSP (RFC 6960 §4.2.1 id-pkix-ocsp-basic, §4.4.1 nonce, §4.4.8 extended revoke)
  ocspBasic: "1.3.6.1.5.5.7.48.1.1",
  ocspNonce: "1.3.6.1.5.5.7.48.1.2",
  // Hash algorithms of an OCSP CertID (RFC 6960 §4.1.1; RFC 3279 §2.2.1, RFC 5754 §2)
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  // Access methods (RFC 5280 §4.2.2.1)
  accessOcsp: "1.3.6.1.5.5.7.48.1",
  accessCaIssuers: "1.3.6.1.5.5.7.48.2",
  // Extended key usages (RFC 5280 §4.2.1.12)
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  // otherName types
  hardwareModuleName: "1.3.6.1.5.5.7.8.4",
  // PKCS#9 attributes (RFC 2985 §5.4)
  challengePassword: "1.2.840.113549.1.9.7",
  extensionRequest: "1.2.840.113549.1.9.14",
  // Public key algorithms
  ecPublicKey: "1.2.840.10045.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaPss: "1.2.840.113549.1.1.10",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  x25519: "1.3.101.110",
  x448: "1.3.101.111",
  dsa: "1.2.840.10040.4.1",
  // Named curves (RFC 5480 §2.1.1.1)
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  p521: "1.3.132.0.35",
  secp256k1: "1.3.132.0.10",
  // Signature algorithms (RFC 5758 §3.2)
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  // CMS content types (RFC 5652 §4, §5)
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
} as const;
