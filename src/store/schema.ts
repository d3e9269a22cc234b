/** The typed shape of every table, as Kysely sees it. Migrations are the source of truth; keep this in step. */
import type { ColumnType, Generated, Insertable, Selectable } from "kysely";
import type { DeviceState } from "../domain/index.js";

type CreatedAt = ColumnType<Date, Date | undefined, never>;
/** jsonb columns are written as JSON text (pg would turn a JS array into a Postgres array). */
type Json<T> = ColumnType<T, string, string>;
/** Int8 comes back as a string from pg and as a number or bigint from PGlite; repositories normalise it. */
type Int8 = ColumnType<string | number | bigint, never, never>;
/** A bigint column the application writes (audit indexes and sizes): written as a number. */
type Bigint = ColumnType<string | number | bigint, number, number>;

export interface KeysTable {
  id: string;
  algorithm: string;
  /** Which store holds it ("software", "pkcs11"); the URI's scheme says the same (migration 0024). */
  store: string;
  /** The key's reference: `keyfleet-sealed:<sealed key id>` or a PKCS#11 URI (RFC 7512). */
  uri: string;
  public_key: Uint8Array;
  purpose: string;
  /** `generated`: recorded before first use, not yet established (migration 0017). */
  state: Generated<"generated" | "active" | "archived" | "destroying" | "destroyed">;
  created_at: CreatedAt;
  destroyed_at: Date | null;
}

export interface SealedKeysTable {
  handle: string;
  kek_source: "passphrase" | "file";
  kdf_salt: Uint8Array | null;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
  created_at: CreatedAt;
}

export interface IssuersTable {
  id: string;
  name: string;
  kind: "root" | "intermediate";
  parent_id: string | null;
  key_id: string;
  certificate: Uint8Array;
  serial: string;
  subject: string;
  algorithm: string;
  not_before: Date;
  not_after: Date;
  state: Generated<"active" | "retired">;
  /** How many CRL shards its certificates are spread over (migration 0026; only grows). */
  crl_shards: Generated<number>;
  created_at: CreatedAt;
}

export interface DevicesTable {
  id: string;
  serial_number: string;
  model: string | null;
  manufacturer: string | null;
  tenant: Generated<string>;
  region: string | null;
  state: Generated<DeviceState>;
  idevid: Uint8Array | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  /** While rotating: the successor certificate's serial. */
  successor_serial: string | null;
  /** While decommissioning: until when it may be cancelled. */
  grace_until: Date | null;
  firmware_version: string | null;
  groups: ColumnType<string[], string | undefined, string>;
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  /** SHA-256 of the IDevID's DER, computed by the database (migration 0018); unique. */
  idevid_sha256: ColumnType<Uint8Array | null, never, never>;
  /** SHA-256 of the IDevID's SubjectPublicKeyInfo; unique. Set exactly when the IDevID is. */
  public_key_sha256: Uint8Array | null;
}

/** A group some device names, in its tenant (migration 0018). */
export interface DeviceGroupsTable {
  tenant: string;
  name: string;
  created_at: CreatedAt;
}

export interface LifecycleEventsTable {
  seq: Int8;
  id: string;
  device_id: string;
  command: string;
  from_state: DeviceState;
  to_state: DeviceState;
  /** The device's version after this transition. */
  version: number;
  actor: string;
  reason: string | null;
  evidence: Json<unknown[]>;
  /** What the transition did to credentials: `{serial, status, reason}` per certificate. */
  effects: Json<unknown[]>;
  policy_version: number;
  idempotency_key: string | null;
  request_digest: Uint8Array | null;
  at: Date;
  /** The index of the transition's audit leaf (`keyfleet audit prove --index`). */
  audit_index: Bigint;
}

export interface OutboxTable {
  /** The index of the event's audit leaf: grows in commit order. */
  position: Bigint;
  id: string;
  type: string;
  subject: string;
  payload: Json<unknown>;
  created_at: CreatedAt;
}

export interface BulkJobsTable {
  id: string;
  command: string;
  /** The device filter (a DeviceQuery without paging), as JSON. */
  filter: Json<Record<string, unknown>>;
  reason: string | null;
  state: Generated<"running" | "done">;
  /** Devices matching when the job was made. */
  total: number;
  applied: Generated<number>;
  refused: Generated<number>;
  /** The last device id a worker took (ids are walked in order). */
  cursor: string | null;
  created_by: string;
  /** Who the job acts as: actor, role and scopes. */
  caller: Json<{ actor: string; role: string; scopes: Record<string, string[]> }>;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  seq: Int8;
  /** A rotate job's rate (migration 0025): so many devices per second or minute; null: all due at once. */
  rate_devices: number | null;
  rate_per: "second" | "minute" | null;
  /** Where the job's pacing stands: the start of its current window, and the devices spread over it. */
  paced_from: Date | null;
  paced: Generated<number>;
}

export interface BulkJobItemsTable {
  job_id: string;
  device_id: string;
  outcome: "applied" | "refused";
  code: string | null;
  message: string | null;
  at: Date;
}

export interface IdentityTombstonesTable {
  kind: "serial" | "idevid-sha256" | "public-key-sha256";
  value: string;
  device_id: string;
  at: Date;
}

export interface ManufacturersTable {
  id: string;
  name: string;
  description: string | null;
  created_at: CreatedAt;
}

export interface ManufacturerCertificatesTable {
  manufacturer_id: string;
  fingerprint_sha256: string;
  certificate: Uint8Array;
  subject: string;
  not_after: Date;
  added_by: string;
  added_at: CreatedAt;
}

export type CertificateStatus = "good" | "hold" | "revoked";

export interface CertificatesTable {
  seq: Int8;
  issuer_id: string;
  serial: string;
  der: Uint8Array;
  fingerprint: Uint8Array;
  subject: string;
  sans: Json<string[]>;
  profile: string;
  key_algorithm: string;
  public_key_sha256: Uint8Array;
  policy_version: number | null;
  device_id: string | null;
  request_id: string | null;
  /** The request id's namespace: the requester's scope ("" unscoped); set exactly when request_id is. */
  request_scope: string | null;
  /** SHA-256 of everything the request asked for (issuance.ts); null on rows from before migration 0004. */
  request_digest: Uint8Array | null;
  not_before: Date;
  not_after: Date;
  status: Generated<CertificateStatus>;
  revoked_at: Date | null;
  revocation_reason: string | null;
  /** When the key is known or suspected to have been compromised (RFC 5280 §5.3.2); set only with a revocation. */
  invalidity_date: Date | null;
  /** The CRL shard its CRL distribution point names (migration 0026; 0 for an unsharded issuer). */
  crl_shard: Generated<number>;
  created_at: CreatedAt;
}

export interface CrlNumbersTable {
  issuer_id: string;
  last_number: Bigint;
}

/** One change of one certificate's status (migration 0021): the revocation record. */
export interface StatusChangesTable {
  seq: Int8;
  issuer_id: string;
  serial: string;
  /** The status it changed to. */
  status: CertificateStatus;
  /** RFC 5280 reason name (certificateHold for a hold); null when a hold is lifted. */
  reason: string | null;
  revoked_at: Date | null;
  invalidity_date: Date | null;
  actor: string;
  evidence: Json<readonly Record<string, unknown>[]>;
  /** The writing transaction (xid8, as text): what a CRL's snapshot did or did not see. */
  xid: Generated<string>;
  created_at: CreatedAt;
}

export interface PublishedCrlsTable {
  issuer_id: string;
  /** The issuer's CRL shard (0 when it has one). */
  shard: number;
  kind: "full" | "delta";
  number: Bigint;
  /** A delta's base: the number of the full CRL it adds to. */
  base_number: Bigint | null;
  /** The pg_snapshot (text) its rows were read in: the next delta holds what it did not see. */
  snapshot: string;
  this_update: Date;
  next_update: Date;
  entries: number;
  /** The DER's length; the bytes are in published_crl_parts. */
  size: number;
}

export interface PublishedCrlPartsTable {
  issuer_id: string;
  shard: number;
  kind: "full" | "delta";
  number: Bigint;
  part: number;
  bytes: Uint8Array;
}

/** A CRL scope's delta base (migration 0026): the full CRL its deltas are made against. */
export interface CrlDeltaBasesTable {
  issuer_id: string;
  shard: number;
  number: Bigint;
  snapshot: string;
  this_update: Date;
}

export interface AuditLeavesTable {
  idx: Bigint;
  /** The entry's canonical JSON (RFC 8785): the exact bytes the leaf hash covers. */
  entry: string;
  /** The leaf hash, SHA-256(0x00 ‖ entry): the tree's level 0. */
  hash: Uint8Array;
  /** What the entry is about ("certificate:<serial>", "token:<id>"…), for proofs by subject. */
  subject: string;
  created_at: CreatedAt;
}

export interface AuditNodesTable {
  level: number;
  idx: Bigint;
  hash: Uint8Array;
}

export interface AuditHeadTable {
  id: Generated<boolean>;
  size: Bigint;
  /** The frontier's hashes, 32 bytes each, largest subtree first. */
  frontier: Uint8Array;
}

export interface AuditCheckpointsTable {
  size: Bigint;
  root: Uint8Array;
  /** The checkpoint as a C2SP signed note. */
  note: string;
  created_at: CreatedAt;
}

export interface ScheduledTasksTable {
  name: string;
  due_at: Date;
  last_run_at: Date | null;
  last_error: string | null;
}

export interface ApiTokensTable {
  id: string;
  secret_hash: Uint8Array;
  role: string;
  scopes: Json<Record<string, string[]>>;
  description: string | null;
  created_at: CreatedAt;
  expires_at: Date | null;
  revoked_at: Date | null;
  seq: Int8;
  last_used_at: Date | null;
  replaced_by: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: Generated<Date>;
  updated_by: string;
}

export interface SettingChangesTable {
  seq: Int8;
  key: string;
  old_value: string | null;
  new_value: string;
  actor: string;
  changed_at: CreatedAt;
}

export interface PolicyVersionsTable {
  version: number;
  document: string;
  sha256: Uint8Array;
  comment: string | null;
  created_by: string;
  created_at: CreatedAt;
}

export interface BootstrapTokensTable {
  id: string;
  device_id: string;
  /** SHA-256 of the secret; the secret itself is shown once and kept nowhere. */
  secret_hash: Uint8Array;
  created_by: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  /** The serial of the certificate its one use brought. */
  certificate: string | null;
}

export interface EnrollmentNoncesTable {
  nonce_hash: Uint8Array;
  device_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

/** A decommissioning device's signed report that it erased its key (migration 0023). */
export interface EraseReportsTable {
  id: string;
  device_id: string;
  serial: string;
  signature: Uint8Array;
  reported_at: Date;
  audit_index: Bigint;
}

/** An operator's request that a device rotate its credential (migration 0025); its commit deletes it. */
export interface RotationRequestsTable {
  device_id: string;
  job_id: string | null;
  requested_by: string;
  reason: string | null;
  requested_at: Date;
  /** When the device is due to rotate (a rate-limited job spreads these). */
  renew_at: Date;
  audit_index: Bigint;
}

export interface Tables {
  keys: KeysTable;
  sealed_keys: SealedKeysTable;
  issuers: IssuersTable;
  devices: DevicesTable;
  device_groups: DeviceGroupsTable;
  certificates: CertificatesTable;
  api_tokens: ApiTokensTable;
  settings: SettingsTable;
  setting_changes: SettingChangesTable;
  audit_leaves: AuditLeavesTable;
  crl_numbers: CrlNumbersTable;
  status_changes: StatusChangesTable;
  published_crls: PublishedCrlsTable;
  published_crl_parts: PublishedCrlPartsTable;
  crl_delta_bases: CrlDeltaBasesTable;
  audit_nodes: AuditNodesTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
  scheduled_tasks: ScheduledTasksTable;
  lifecycle_events: LifecycleEventsTable;
  outbox: OutboxTable;
  identity_tombstones: IdentityTombstonesTable;
  bulk_jobs: BulkJobsTable;
  bulk_job_items: BulkJobItemsTable;
  policy_versions: PolicyVersionsTable;
  manufacturers: ManufacturersTable;
  manufacturer_certificates: ManufacturerCertificatesTable;
  bootstrap_tokens: BootstrapTokensTable;
  enrollment_nonces: EnrollmentNoncesTable;
  erase_reports: EraseReportsTable;
  rotation_requests: RotationRequestsTable;
}

export type CertificateRow = Selectable<CertificatesTable>;
export type RotationRequestRow = Selectable<RotationRequestsTable>;
export type NewCertificate = Insertable<CertificatesTable>;
export type IssuerRow = Selectable<IssuersTable>;
export type KeyRow = Selectable<KeysTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type LifecycleEventRow = Selectable<LifecycleEventsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type BootstrapTokenRow = Selectable<BootstrapTokensTable>;
export type EraseReportRow = Selectable<EraseReportsTable>;
export type BulkJobRow = Selectable<BulkJobsTable>;
export type ManufacturerRow = Selectable<ManufacturersTable>;
export type ManufacturerCertificateRow = Selectable<ManufacturerCertificatesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
