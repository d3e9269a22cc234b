/**
 * PGlite's Node filesystem with every file and directory its owner's alone (0600 / 0700). PGlite
 * writes the database through Emscripten's NODEFS in this process, and NODEFS sets each file's
 * mode itself: it creates files 0777 and directories 0777 (less the umask), then chmods every file
 * of the initial database to 0666 (measured on PGlite 0.5: 968 files 0666, whatever the process
 * umask, so a umask does not help). Here the two places NODEFS turns a mode into a file (creating a
 * node, and chmod) drop the group and other bits, so no file is ever open to others, not even for
 * the moment between its creation and a chmod. A database made before this (0666 files under a
 * 0700 directory) is tightened once, when it is next opened.
 */
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { NodeFS } from "@electric-sql/pglite/nodefs";

/** Permission bits no database file keeps: group and other. */
const othersBits = 0o077;

/** The slice of Emscripten's NODEFS that sets modes (PGlite does not type its internals). */
interface NodeFsInternals {
  node_ops: { mknod: (parent: unknown, name: string, mode: number, dev: number) => unknown };
  doSetAttr: (arg: unknown, node: unknown, attr: { mode?: number }, ...rest: unknown[]) => unknown;
}

export class OwnerOnlyNodeFS extends NodeFS {
  override async init(...args: Parameters<NodeFS["init"]>): ReturnType<NodeFS["init"]> {
    tightenOlderDatabase(this.rootDir);
    const { emscriptenOpts } = await super.init(...args);
    const ownerOnly = (mod: { NODEFS: unknown }) => restrictModes(mod.NODEFS as NodeFsInternals);
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [ownerOnly, ...(emscriptenOpts.preRun ?? [])] } };
  }
}

function restrictModes(nodefs: NodeFsInternals): void {
  const { mknod } = nodefs.node_ops;
  const { doSetAttr } = nodefs;
  // Fail loudly rather than write 0666 files if a PGlite upgrade moves these.
  if (typeof mknod !== "function" || typeof doSetAttr !== "function") {
    throw new Error("PGlite's NODEFS has no mknod/doSetAttr to restrict file modes in");
  }
  nodefs.node_ops.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & ~othersBits, dev);
  nodefs.doSetAttr = (arg, node, attr, ...rest) =>
    doSetAttr(
      arg,
      node,
      attr.mode === undefined ? attr : { ...attr, mode: attr.mode & ~othersBits },
      ...rest,
    );
}

/** One stat when the database is already tight; a walk of its files (≈1,000) only the first time. */
function tightenOlderDatabase(root: string): void {
  const marker = lstatSync(join(root, "PG_VERSION"), { throwIfNoEntry: false });
  if (!marker || (marker.mode & othersBits) === 0) return;
  const entries = readdirSync(root, { recursive: true, withFileTypes: true });
  for (const path of [root, ...entries.map((e) => join(e.parentPath, e.name))]) {
    const { mode } = lstatSync(path);
    if ((mode & 0o170000) === 0o120000) continue; // a link's own mode means nothing; never follow one
    if ((mode & othersBits) !== 0) chmodSync(path, mode & 0o7777 & ~othersBits);
  }
}
