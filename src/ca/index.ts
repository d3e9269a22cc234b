/**
 * The authority: the CA hierarchy and its keys, issuance (serials, group-committed records) and the
 * records later read by revocation. It signs what it is asked; who may ask is decided above it.
 */
export { createAuthority, type Authority, type AuthorityDeps, type CaSummary } from "./authority.js";
export type { IssuedCertificate } from "./certificate.js";
export type { ServerTlsIdentity } from "./server-identity.js";
export {
  defaultProfileFor,
  requestIdPattern,
  type InspectCsr,
  type IssueRequest,
  type RecordWith,
} from "./issuance.js";
export type { BatchWriter, RecordBatch } from "./record-batch.js";
export type { InitOptions } from "./hierarchy.js";
export { crlPath, issuerUrls, type CrlKind, type CrlScope } from "./urls.js";
export { keyCustody, keyGraceSeconds, type KeyCustodyDeps } from "./key-custody.js";
export { inlineCsrReader, type CsrReader } from "./csr-reader.js";
export { workerCsrReader } from "./worker-csr-reader.js";
export { certificateJson, type CertificateJson } from "./certificate.js";
export { checkDeviceSerial, idevidDer, namesKeyfleetUrn } from "./device-identity.js";
export { applyCredentialEffect, type CredentialChange, type CredentialEffect } from "./credential-effects.js";
export { crlValiditySeconds, deltaCrlValiditySeconds, type ProducedCrl } from "./crl-producer.js";
export { crlPublisher, crlPublisherSeconds, fullRefreshSeconds, type CrlPublisher } from "./crl-publisher.js";
export { ArtefactStore, type Artefact } from "./artefact-store.js";
export { changeStatus, type RevocationDeps, type StatusOrder, type StatusOutcome } from "./revocation.js";
export type { StatusRequest } from "./revocation-rules.js";
export type { OcspAnswer, OcspResponder } from "./ocsp-responder.js";
export { crlBundle, readCrlBundle } from "./crl-bundle.js";
