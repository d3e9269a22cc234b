/**
 * Storage: one PostgreSQL dialect on two connectors (PGlite embedded, PostgreSQL server), numbered
 * migrations run at open, and the repositories every service module reads and writes through.
 */
export {
  openDatabase,
  redactUrl,
  type Database,
  type DatabaseKind,
  type DatabaseOptions,
  type Tx,
} from "./database.js";
export {
  certificateRepository,
  type CertificateRepository,
  type CertificatePage,
  type CertificateQuery,
  type DeviceStatusChange,
} from "./certificate-repository.js";
export {
  crlRepository,
  type CrlScopeKey,
  type DeltaBaseRow,
  type PublishedCrlRow,
  type RevokedCertificateRow,
} from "./crl-repository.js";
export { revocationRepository, type NewStatusChange } from "./revocation-repository.js";
export { ocspRepository, type CertificateStatusRow, type OcspRepository } from "./ocsp-repository.js";
export { lifecycleEventRepository, type LifecycleEventRepository } from "./lifecycle-event-repository.js";
export { bulkJobRepository, type BulkJobRepository } from "./bulk-job-repository.js";
export { outboxRepository, type OutboxRepository } from "./outbox-repository.js";
export {
  tombstoneRepository,
  type HardwareIdentity,
  type TombstoneRepository,
} from "./tombstone-repository.js";
export { holdLock, type LockName } from "./advisory-lock.js";
export { policyRepository, type PolicyRepository, type PolicyVersionRow } from "./policy-repository.js";
export {
  auditRepository,
  type AuditCheckpointRow,
  type AuditHead,
  type AuditLeafRow,
  type AuditLeafWithHash,
  type AuditNodeRef,
  type AuditRepository,
} from "./audit-repository.js";
export { issuerRepository, type IssuerRepository } from "./issuer-repository.js";
export { keyRepository, type KeyRepository } from "./key-repository.js";
export {
  deviceRepository,
  type Collision,
  type DeviceQuery,
  type DeviceRepository,
  type NewDevice,
} from "./device-repository.js";
export { groupRepository, type GroupQuery, type GroupRepository, type GroupRow } from "./group-repository.js";
export { manufacturerRepository, type ManufacturerRepository } from "./manufacturer-repository.js";
export {
  enrollmentRepository,
  type EnrollmentRepository,
  type SpentReason,
} from "./enrollment-repository.js";
export { eraseReportRepository } from "./erase-report-repository.js";
export { rotationRequestRepository } from "./rotation-request-repository.js";
export { taskRepository, type TaskRepository } from "./task-repository.js";
export { tokenRepository, type TokenRepository, type TokenPage } from "./token-repository.js";
export { settingsRepository, type SettingsRepository, type SettingChange } from "./settings-repository.js";
export {
  databaseSealedKeyVault,
  type SealedKeyRecord,
  type DatabaseSealedKeyVault,
} from "./sealed-key-vault.js";
export type * from "./schema.js";
