/**
 * The tamper-evident audit log (DESIGN §4 Audit): an RFC 9162 Merkle tree over every identity
 * event. The tree math is pure (merkle.ts); storage, entries and signed checkpoints build on it.
 */
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
