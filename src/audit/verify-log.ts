/**
 * Verifying the audit log from its entries and checkpoints alone (pure; the source of the entries
 * is the caller's: the database, or an export file). It recomputes every leaf hash and the tree,
 * checks each checkpoint's signature by the given verifier key, and checks that each checkpoint's
 * root is the root of the entries before it, which makes successive checkpoints consistent with
 * each other. Where the source also gives the leaf hash it stored (the database), a changed entry
 * is named by its index; otherwise a failing checkpoint bounds where the change is.
 */
import { decodeEntry } from "./entry.js";
import { appendLeaves, leafHash, rangeHash } from "./merkle.js";
import { openCheckpoint, type Checkpoint, type NoteVerifier } from "./signed-note.js";

export interface LeafToVerify {
  readonly index: number;
  /** The entry's canonical JSON, as stored or exported. */
  readonly text: string;
  /** The leaf hash the database stored for it (level-0 node), when the source has one. */
  readonly storedHash?: Uint8Array;
}

export type Verdict =
  | {
      readonly ok: true;
      readonly entries: number;
      readonly checkpoints: number;
      readonly uncovered: number;
      /** The recomputed tree's perfect subtrees, largest first: what the log's head must hold. */
      readonly frontier: Uint8Array[];
    }
  | { readonly ok: false; readonly entries: number; readonly checkpoints: number; readonly problem: string };

const utf8 = (text: string) => new TextEncoder().encode(text);

export async function verifyLog(
  leaves: AsyncIterable<LeafToVerify>,
  notes: readonly string[],
  verifier: NoteVerifier,
  onProgress: (entries: number) => void = () => undefined,
): Promise<Verdict> {
  let checked = 0;
  const fail = (entries: number, problem: string): Verdict => ({
    ok: false,
    entries,
    checkpoints: checked,
    problem,
  });

  const checkpoints: Checkpoint[] = [];
  for (const note of notes) {
    let c: Checkpoint;
    try {
      c = openCheckpoint(note, verifier);
    } catch (e) {
      return fail(0, `a checkpoint does not verify with ${verifier.name}: ${(e as Error).message}`);
    }
    if (c.origin !== verifier.name)
      return fail(0, `a checkpoint is of log ${c.origin}, not ${verifier.name}`);
    checkpoints.push(c);
  }
  checkpoints.sort((a, b) => a.size - b.size);

  let size = 0;
  let frontier: Uint8Array[] = [];
  let next = 0; // the next checkpoint to meet
  const meet = (): string | undefined => {
    while (next < checkpoints.length && checkpoints[next]!.size === size) {
      const c = checkpoints[next++]!;
      if (!Buffer.from(rangeHash(frontier)).equals(c.root)) {
        const before = next >= 2 ? checkpoints[next - 2]! : undefined;
        if (before?.size === c.size) {
          return `two checkpoints of size ${c.size} have different roots, both signed: the log was forked`;
        }
        return `checkpoint ${c.size} does not match the entries: one of entries ${before?.size ?? 0}–${c.size - 1} was changed, removed, added or moved`;
      }
      checked++;
    }
    return undefined;
  };
  const atStart = meet();
  if (atStart) return fail(0, atStart);
  for await (const leaf of leaves) {
    if (leaf.index !== size) {
      return fail(size, leaf.index > size ? `entry ${size} is missing` : `entry ${leaf.index} appears twice`);
    }
    try {
      decodeEntry(leaf.text, `entry ${leaf.index}`);
    } catch (e) {
      return fail(size, (e as Error).message);
    }
    const hash = leafHash(utf8(leaf.text));
    if (leaf.storedHash && !Buffer.from(leaf.storedHash).equals(hash)) {
      return fail(size, `entry ${leaf.index} was changed: its hash is not the one the log recorded`);
    }
    frontier = appendLeaves(size, frontier, [hash]).frontier;
    size++;
    if (size % 10_000 === 0) onProgress(size);
    const problem = meet();
    if (problem) return fail(size, problem);
  }
  onProgress(size);
  if (next < checkpoints.length) {
    return fail(
      size,
      `checkpoint ${checkpoints[next]!.size} covers entries beyond the last one, ${size - 1}: entries were removed`,
    );
  }
  const covered = checkpoints.at(-1)?.size ?? 0;
  return { ok: true, entries: size, checkpoints: checked, uncovered: size - covered, frontier };
}
