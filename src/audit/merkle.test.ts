import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  appendLeaves,
  consistencyRanges,
  inclusionPlan,
  inclusionRanges,
  leafHash,
  perfectParts,
  rangeHash,
  readPlan,
  verifyConsistency,
  verifyInclusion,
  type Range,
  type StoredNode,
} from "./merkle.js";

// RFC 9162 vectors, read in place (../shared/vectors/merkle from the project root; see its README).
const vectors = join(import.meta.dirname, "../../../shared/vectors/merkle");
const present = existsSync(vectors);
if (!present) console.warn(`${vectors} is absent: the RFC 9162 vector tests are skipped`);

const b64 = (s: string | null | undefined) => new Uint8Array(Buffer.from(s ?? "", "base64"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Every JSON case under vectors/<kind>, at any depth, named by its path. */
function cases<T>(kind: string): [string, T][] {
  return (readdirSync(join(vectors, kind), { recursive: true }) as string[])
    .filter((path) => path.endsWith(".json"))
    .sort()
    .map((path) => [path, JSON.parse(readFileSync(join(vectors, kind, path), "utf8")) as T]);
}

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

describe.skipIf(!present)("RFC 9162 vectors (transparency-dev/merkle)", () => {
  test("every inclusion case, positive and negative", () => {
    const all = cases<InclusionCase>("inclusion");
    expect(all).toHaveLength(98);
    for (const [name, c] of all) {
      const ok = verifyInclusion(
        b64(c.leafHash),
        c.leafIdx,
        c.treeSize,
        (c.proof ?? []).map(b64),
        b64(c.root),
      );
      expect(ok, name).toBe(!c.wantErr);
    }
  });

  test("every consistency case, positive and negative", () => {
    const all = cases<ConsistencyCase>("consistency");
    expect(all).toHaveLength(98);
    for (const [name, c] of all) {
      const ok = verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), (c.proof ?? []).map(b64));
      expect(ok, name).toBe(!c.wantErr);
    }
  });

  test("the roots of the trees of size 0..8 and every complete subtree", () => {
    const roots = JSON.parse(readFileSync(join(vectors, "roots.json"), "utf8")) as {
      leafInputsHex: string[];
      rootHashesHexBySize: string[];
      nodeHashesHex: string[][];
    };
    const tree = buildTree(roots.leafInputsHex.map((h) => new Uint8Array(Buffer.from(h, "hex"))));
    roots.rootHashesHexBySize.forEach((root, size) =>
      expect(hex(tree.root(size)), `size ${size}`).toBe(root),
    );
    roots.nodeHashesHex.forEach((level, l) =>
      level.forEach((hash, i) => expect(hex(tree.node(l, i)), `node ${l}/${i}`).toBe(hash)),
    );
  });
});

/** A tree built the way storage builds it: appendLeaves, every perfect subtree kept. */
function buildTree(inputs: readonly Uint8Array[]) {
  const nodes = new Map<string, Uint8Array>();
  let frontier: Uint8Array[] = [];
  inputs.forEach((input, i) => {
    const step = appendLeaves(i, frontier, [leafHash(input)]);
    for (const n of step.nodes) nodes.set(`${n.level}/${n.index}`, n.hash);
    frontier = step.frontier;
  });
  const node = (level: number, index: number) => nodes.get(`${level}/${index}`)!;
  const hashOf = (r: Range) => rangeHash(perfectParts(r).map((p) => node(p.level, p.index)));
  return { node, hashOf, root: (size: number) => hashOf({ start: 0, end: size }), frontier: () => frontier };
}

describe("proofs made from stored subtrees", () => {
  const inputs = Array.from({ length: 70 }, (_, i) => new TextEncoder().encode(`entry ${i}`));
  const tree = buildTree(inputs);

  test("every leaf of every tree up to 70 leaves proves its inclusion, and only at its own index", () => {
    for (let size = 1; size <= 70; size++) {
      for (let i = 0; i < size; i++) {
        const proof = inclusionRanges(i, size).map(tree.hashOf);
        const leaf = leafHash(inputs[i]!);
        expect(verifyInclusion(leaf, i, size, proof, tree.root(size)), `${i} in ${size}`).toBe(true);
        if (size > 1) expect(verifyInclusion(leaf, (i + 1) % size, size, proof, tree.root(size))).toBe(false);
      }
    }
  });

  test("every tree up to 70 leaves is consistent with each of its prefixes, and not with a changed one", () => {
    for (let n = 1; n <= 70; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyRanges(m, n).map(tree.hashOf);
        expect(verifyConsistency(m, n, tree.root(m), tree.root(n), proof), `${m} → ${n}`).toBe(true);
        if (m < n) {
          const wrong = leafHash(new TextEncoder().encode("forged"));
          expect(verifyConsistency(m, n, wrong, tree.root(n), proof)).toBe(false);
        }
      }
    }
  });

  test("appending in batches gives the nodes and frontier of appending one by one", () => {
    let frontier: Uint8Array[] = [];
    const nodes: StoredNode[] = [];
    let size = 0;
    for (const batch of [1, 2, 5, 8, 13, 41]) {
      const leaves = inputs.slice(size, size + batch).map(leafHash);
      const step = appendLeaves(size, frontier, leaves);
      nodes.push(...step.nodes);
      frontier = step.frontier;
      size += batch;
    }
    expect(size).toBe(70);
    expect(frontier.map(hex)).toEqual(tree.frontier().map(hex));
    for (const n of nodes) expect(hex(n.hash)).toBe(hex(tree.node(n.level, n.index)));
    expect(nodes).toHaveLength(70 + 35 + 17 + 8 + 4 + 2 + 1);
  });

  test("a read plan names only stored subtrees, each once, and folds them into the proof", () => {
    const stored = (p: { level: number; index: number }) => {
      if (p.level === 1) throw new Error(`level-1 subtree ${p.index} is not stored`);
      return tree.node(p.level, p.index);
    };
    for (let size = 1; size <= 70; size++) {
      for (let i = 0; i < size; i++) {
        const plan = inclusionPlan(i, size);
        const names = plan.nodes.map((n) => `${n.level}/${n.index}`);
        expect(new Set(names).size, `${i} in ${size}`).toBe(names.length);
        const read = new Set<string>();
        const [leaf, ...proof] = plan.fold((n) => (read.add(`${n.level}/${n.index}`), stored(n)));
        expect([...read].sort()).toEqual([...names].sort()); // what it reads is what it named
        expect(hex(leaf!)).toBe(hex(leafHash(inputs[i]!)));
        expect(verifyInclusion(leaf!, i, size, proof, tree.root(size)), `${i} in ${size}`).toBe(true);
      }
      const [root] = readPlan([{ start: 0, end: size }]).fold(stored);
      expect(hex(root!)).toBe(hex(tree.root(size)));
    }
  });

  test("a proof needs O(log n) stored subtrees, even at 10 million leaves", () => {
    const size = 10_000_000;
    for (const i of [0, 1, 4_999_999, size - 2, size - 1]) {
      const reads = inclusionRanges(i, size).flatMap(perfectParts);
      expect(reads.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
      expect(inclusionPlan(i, size).nodes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)) + 1);
    }
    expect(consistencyRanges(9_999_937, size).flatMap(perfectParts).length).toBeLessThanOrEqual(
      2 * Math.ceil(Math.log2(size)),
    );
  });

  test("refuses to plan a proof outside the tree", () => {
    expect(() => inclusionRanges(5, 5)).toThrow(RangeError);
    expect(() => consistencyRanges(0, 5)).toThrow(RangeError);
    expect(() => consistencyRanges(6, 5)).toThrow(RangeError);
  });
});
