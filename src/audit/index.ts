/**
 * The tamper-evident audit log (DESIGN §4 Audit): an RFC 9162 Merkle tree over every identity
 * event. The tree math is pure (merkle.ts); entries are canonical JSON (entry.ts); `append(tx, …)`
 * joins the caller's transaction (audit-log.ts).
 */
export { auditCheckpoints, type AuditCheckpoints, type CheckpointDeps } from "./checkpoints.js";
export {
  checkpointText,
  ed25519KeyOf,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKey,
  type Checkpoint,
  type NoteVerifier,
} from "./signed-note.js";
export { verifyLog, type LeafToVerify, type Verdict } from "./verify-log.js";
export {
  auditLog,
  maxEntriesPerRead,
  type AuditLog,
  type InclusionProof,
  type PreparedEntries,
} from "./audit-log.js";
export {
  decodeEntry,
  encodeEntry,
  entryVersion,
  type AuditEntry,
  type AuditEvent,
  type AuditEventType,
  type JsonValue,
} from "./entry.js";
export {
  appendLeaves,
  consistencyRanges,
  emptyRoot,
  inclusionRanges,
  leafHash,
  nodeHash,
  perfectParts,
  rangeHash,
  verifyConsistency,
  verifyInclusion,
  type Perfect,
  type Range,
  type StoredNode,
} from "./merkle.js";
