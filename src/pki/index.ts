/**
 * Pure X.509 work: certificate profiles, CSR parsing and checks, certificate encoding with a
 * purpose-built DER writer (issuer constants precomputed once), and certification path validation
 * (RFC 5280 §6). No I/O beyond node:crypto; the CA decides what to issue and records it, this
 * module only reads and writes the bytes.
 */
export { toPem, fromPem, derOrPem } from "./pem.js";
export * as der from "./der.js";
export {
  decodeNameDer,
  encodeName,
  formatName,
  checkName,
  type NameAttributeType,
  type NameAttribute,
  type DistinguishedName,
} from "./name.js";
export { formatSan, type SanEntry, type SanType } from "./san.js";
export { parseIp } from "./ip.js";
export { newSerial, serialToHex, serialFromHex } from "./serial.js";
export {
  profiles,
  profileByName,
  type Profile,
  type ProfileName,
  type KeyUsageName,
  type SanRules,
} from "./profiles.js";
export {
  compileIssuer,
  compileSelfIssuer,
  type IssuerTemplate,
  type RevocationUrls,
} from "./issuer-template.js";
export { writeCertificate, type CertificateOrder } from "./certificate-writer.js";
export { parseCsr, type ParsedCsr } from "./csr.js";
export { certsOnly } from "./cms-certs-only.js";
export { csrAttrs } from "./csr-attrs.js";
export { writeCsr, type CsrRequest } from "./csr-writer.js";
export type { RequestedExtension } from "./csr-attributes.js";
export { checkCsr } from "./csr-check.js";
export { checkPublicKey, checkSubjectPublicKeyInfo } from "./key-check.js";
export { limits } from "./limits.js";
export { readCertificate, type ReadCertificate } from "./certificate-reader.js";
export { certificateNames, type CertificateNames } from "./certificate-names.js";
export { readCertsOnly } from "./certs-only-reader.js";
export {
  validatePath,
  subjectText,
  type PathFailureReason,
  type PathValidation,
  type PathValidationOptions,
} from "./path-validation.js";
export {
  CrlWriter,
  crlEntry,
  revocationReasons,
  type CrlEntry,
  type CrlHeader,
  type RevocationReason,
} from "./crl-writer.js";
export { checkCrlShards, crlShardOf, maxCrlShards } from "./crl-shard.js";
export { readOcspRequest, type CertId, type CertIdHash, type OcspRequest } from "./ocsp-request.js";
export {
  compileResponder,
  ocspStatusResponse,
  singleResponse,
  writeOcspResponse,
  type CertStatus,
  type CompiledResponder,
  type OcspResponseStatus,
  type SingleResponseInput,
} from "./ocsp-response.js";
export { decodeOcspGetPath } from "./ocsp-get.js";
export { ocspIssuerHashes, type IssuerHashes } from "./ocsp-issuer.js";
export { checkCrlSignature, readCrlHeader, type CrlHeader as PublishedCrlHeader } from "./crl-reader.js";
export { readCrl, serialKey, type ReadCrl, type CrlEntryRead } from "./crl-entries-reader.js";
export { revocationPointers, type RevocationPointers } from "./revocation-pointers.js";
export {
  certIdFor,
  writeOcspRequest,
  readOcspResponse,
  type ClientCertId,
  type OcspAnswer,
} from "./ocsp-client.js";
