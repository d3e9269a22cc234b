/**
 * RFC 9162 §2.1 Merkle tree math, pure. Hashes: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖
 * left ‖ right), the empty tree SHA-256(""). Storage keeps the hash of every perfect subtree (2^level
 * leaves from index·2^level), so every hash a proof or a root needs is a fold of O(log n) of them:
 * proofs are first planned as ranges of leaves (`inclusionRanges`, `consistencyRanges`), the stored
 * subtrees those ranges are made of are named without I/O (`readPlan`) and read in one query, and
 * `rangeHash` folds them.
 * The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
 */
import { createHash } from "node:crypto";

export const HASH_SIZE = 32;

export function leafHash(data: Uint8Array): Uint8Array {
  return createHash("sha256").update(Uint8Array.of(0)).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash("sha256").update(Uint8Array.of(1)).update(left).update(right).digest();
}

export const emptyRoot: Uint8Array = createHash("sha256").digest();

/** Leaves [start, end) of the tree: a subtree in RFC 9162's sense, or a root (start 0). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** The perfect subtree of 2^level leaves starting at leaf index·2^level. */
export interface Perfect {
  readonly level: number;
  readonly index: number;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** The largest power of two smaller than n (n > 1): RFC 9162's k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees a range of the tree is made of, largest first. Every range RFC 9162's
 * definitions name starts at a multiple of a power of two at least its length, so its parts follow
 * the binary digits of its length.
 */
export function perfectParts(range: Range): Perfect[] {
  const parts: Perfect[] = [];
  let start = range.start;
  let remaining = range.end - range.start;
  for (let level = Math.floor(Math.log2(Math.max(remaining, 1))) + 1; level >= 0 && remaining > 0; level--) {
    const size = 2 ** level;
    if (size <= remaining) {
      if (start % size !== 0) throw new RangeError(`leaves [${range.start}, ${range.end}) are not a subtree`);
      parts.push({ level, index: start / size });
      start += size;
      remaining -= size;
    }
  }
  return parts;
}

/** MTH of a range from the hashes of its perfect parts, in `perfectParts` order. */
export function rangeHash(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return emptyRoot;
  let hash = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(parts[i]!, hash);
  return hash;
}

/**
 * What to read from storage for the hashes of some ranges, planned without I/O. Storage keeps the
 * leaves (level 0) and the perfect subtrees of level 2 and up; a level-1 subtree is the hash of its
 * two leaves (half the node rows, for one more leaf read). `nodes` names each stored subtree to read
 * once, so a whole proof is one query; `fold` makes the ranges' hashes from what was read.
 */
export interface ReadPlan {
  readonly nodes: readonly Perfect[];
  fold(read: (node: Perfect) => Uint8Array): Uint8Array[];
}

export function readPlan(ranges: readonly Range[]): ReadPlan {
  const parts = ranges.map(perfectParts);
  const stored = (p: Perfect): Perfect[] =>
    p.level === 1
      ? [
          { level: 0, index: 2 * p.index },
          { level: 0, index: 2 * p.index + 1 },
        ]
      : [p];
  const nodes = new Map<string, Perfect>();
  for (const node of parts.flat().flatMap(stored)) nodes.set(`${node.level}/${node.index}`, node);
  const hashOf = (p: Perfect, read: (node: Perfect) => Uint8Array): Uint8Array => {
    if (p.level !== 1) return read(p);
    const [left, right] = stored(p);
    return nodeHash(read(left!), read(right!));
  };
  return {
    nodes: [...nodes.values()],
    fold: (read) => parts.map((ps) => rangeHash(ps.map((p) => hashOf(p, read)))),
  };
}

/** The reads of an inclusion proof of leaf `index` in the tree of `size`: the leaf's hash, then PATH. */
export function inclusionPlan(index: number, size: number): ReadPlan {
  return readPlan([{ start: index, end: index + 1 }, ...inclusionRanges(index, size)]);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as ranges, the leaf's sibling first. */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path: Range[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      path.push({ start: start + k, end });
      end = start + k;
    } else {
      path.push({ start, end: start + k });
      start += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as ranges, in the RFC's order; 0 < m ≤ n. */
export function consistencyRanges(m: number, n: number): Range[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const proof: Range[] = [];
  const subproof = (m: number, start: number, end: number, complete: boolean): void => {
    if (start + m === end) {
      if (!complete) proof.push({ start, end });
      return;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      subproof(m, start, start + k, complete);
      proof.push({ start: start + k, end });
    } else {
      subproof(m - k, start + k, end, false);
      proof.push({ start, end: start + k });
    }
  };
  subproof(m, 0, n, true);
  return proof;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(b);
const wellFormed = (hashes: readonly Uint8Array[]) => hashes.every((h) => h.length === HASH_SIZE);

/** RFC 9162 §2.1.3.2: does `proof` show the leaf with this hash at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size))
    return false;
  if (leaf.length !== HASH_SIZE || !wellFormed(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `size2` (root2) extends the tree of `size1` (root1)? */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 > 0 && size1 <= size2))
    return false;
  if (!wellFormed(proof)) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equal(fr, root1) && equal(sr, root2) && sn === 0;
}

/** A perfect subtree and its hash: what storage keeps. */
export interface StoredNode extends Perfect {
  readonly hash: Uint8Array;
}

/**
 * Appending leaves to a tree of `size` leaves whose frontier (the hashes of `perfectParts` of
 * [0, size), largest first) is given: every perfect subtree the new leaves complete, and the new
 * frontier. O(log n) per leaf, and no read of the log beyond the frontier.
 */
export function appendLeaves(
  size: number,
  frontier: readonly Uint8Array[],
  leaves: readonly Uint8Array[],
): { nodes: StoredNode[]; frontier: Uint8Array[] } {
  const stack = perfectParts({ start: 0, end: size }).map((part, i) => ({ ...part, hash: frontier[i]! }));
  if (stack.length !== frontier.length)
    throw new RangeError(`a tree of ${size} has ${stack.length} frontier hashes`);
  const nodes: StoredNode[] = [];
  let index = size;
  for (const leaf of leaves) {
    let node: StoredNode = { level: 0, index, hash: leaf };
    nodes.push(node);
    // Equal-sized neighbours merge, as in a binary counter: each merge completes a perfect subtree.
    while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      nodes.push(node);
    }
    stack.push(node);
    index++;
  }
  return { nodes, frontier: stack.map((n) => n.hash) };
}
