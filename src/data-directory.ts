/**
 * The data directory and how Keyfleet writes into it. It holds the database, the development KEK,
 * the first admin token and the control socket, so it must be its user's alone: owned by the user
 * Keyfleet runs as and writable by nobody else (else someone else could plant a symbolic link, a
 * socket or a keyfleet.yaml in it). Every entry point checks this once, when the configuration is
 * loaded (before keyfleet.yaml is read); the control socket checks again before it binds.
 *
 * Secrets (the admin token, the KEK) are only ever created as new files (O_CREAT|O_EXCL|O_NOFOLLOW,
 * mode 0600): an existing file or a symbolic link at the path is refused, never written through
 * and never kept with whatever mode it had. Public files (ca-chain.pem) are replaced atomically:
 * written to a new temporary file beside them and renamed into place, which replaces a symbolic
 * link rather than following it and never shows a reader half a file.
 */
import type { Stats } from "node:fs";
import { constants, closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { lstat, open, readFile, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { KeyfleetError } from "./domain/index.js";

/** The user files are made as; undefined where there are no POSIX owners (Windows: nothing to check). */
export function currentUid(): number | undefined {
  return process.geteuid?.() ?? process.getuid?.();
}

export function octal(mode: number): string {
  return "0" + (mode & 0o777).toString(8);
}

/**
 * Why a directory cannot be trusted as a data directory (or to hold a control socket both sides
 * trust), or undefined: it must belong to `owner` and be writable by nobody else.
 */
export function dataDirectoryProblem(
  dataDir: string,
  dir: Pick<Stats, "uid" | "mode">,
  owner: number,
): string | undefined {
  if (dir.uid !== owner) {
    return `the data directory ${dataDir} belongs to uid ${dir.uid}, not to this user (uid ${owner}): run keyfleet as its owner`;
  }
  if ((dir.mode & 0o022) !== 0) {
    return `the data directory ${dataDir} is writable by others (mode ${octal(dir.mode)}): run \`chmod 700 ${dataDir}\``;
  }
  return undefined;
}

/** Refuses an existing data directory that is not this user's alone; one that does not exist yet passes (it is made 0700). */
export function checkDataDirectory(dataDir: string): void {
  const owner = currentUid();
  if (owner === undefined) return;
  let dir: Stats;
  try {
    dir = statSync(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new KeyfleetError(
      "invalid-configuration",
      `cannot read the data directory ${dataDir}: ${code(e)}`,
      {
        cause: e,
      },
    );
  }
  if (!dir.isDirectory()) {
    throw new KeyfleetError("invalid-configuration", `the data directory ${dataDir} is not a directory`);
  }
  const problem = dataDirectoryProblem(dataDir, dir, owner);
  if (problem) throw new KeyfleetError("invalid-configuration", problem);
}

/**
 * A configuration file's text, or undefined if there is none. It may name the database and hold
 * the passphrase, so one that anybody but its reader (or root) may write is refused.
 */
export function readOwnFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new KeyfleetError("invalid-configuration", `cannot read ${path}: ${code(e)}`, { cause: e });
  }
  try {
    const file = fstatSync(fd);
    const owner = currentUid();
    if (!file.isFile()) throw new KeyfleetError("invalid-configuration", `${path} is not a regular file`);
    if (owner !== undefined && file.uid !== owner && file.uid !== 0) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${path} belongs to uid ${file.uid}, not to this user (uid ${owner}) or root`,
      );
    }
    if (owner !== undefined && (file.mode & 0o022) !== 0) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${path} is writable by others (mode ${octal(file.mode)}): run \`chmod 600 ${path}\``,
      );
    }
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** The refusal for a secret's path that is taken already (a file, a directory or a symbolic link). */
async function takenPath(path: string, what: string): Promise<KeyfleetError> {
  const entry = await lstat(path).catch(() => undefined);
  const kind = entry?.isSymbolicLink() ? "a symbolic link" : entry?.isDirectory() ? "a directory" : "a file";
  return new KeyfleetError(
    "conflict",
    `${path} already exists (${kind}): ${what} is written only to a new file, never through or over one; move it away and run again`,
  );
}

/** Refuses before any work when the secret's path is taken, so a refusal leaves everything as it was. */
export async function checkSecretPathFree(path: string, what: string): Promise<void> {
  if (
    await lstat(path).then(
      () => true,
      () => false,
    )
  )
    throw await takenPath(path, what);
}

/**
 * Creates `path` as a new file of mode 0600 holding what `content` makes (called once the file is
 * ours, so nothing is made for a path that is refused). A file or a symbolic link already there is
 * refused with `conflict`. If making or writing the content fails, the new file is removed.
 */
export async function createSecretFile(
  path: string,
  what: string,
  content: () => Promise<string | Uint8Array>,
): Promise<void> {
  let handle;
  try {
    handle = await open(
      path,
      constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY,
      0o600,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw await takenPath(path, what);
    throw e;
  }
  try {
    await handle.writeFile(await content());
    await handle.sync();
    await handle.close();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw e;
  }
}

/**
 * A secret file's bytes, read without following a symbolic link. A file that others could read is
 * made 0600 (it sits in a 0700 directory, so nobody else could reach it) and `loose` says so.
 */
export async function readSecretFile(path: string, what: string): Promise<{ bytes: Buffer; loose?: string }> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      throw new KeyfleetError(
        "invalid-configuration",
        `${path} is a symbolic link; ${what} is read only from a regular file of its own`,
      );
    }
    throw e;
  }
  try {
    const file = await handle.stat();
    const owner = currentUid();
    if (!file.isFile()) throw new KeyfleetError("invalid-configuration", `${path} is not a regular file`);
    if (owner !== undefined && file.uid !== owner) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${path} belongs to uid ${file.uid}, not to this user (uid ${owner})`,
      );
    }
    const bytes = await handle.readFile();
    if ((file.mode & 0o077) === 0) return { bytes };
    await handle.chmod(0o600);
    return { bytes, loose: octal(file.mode) };
  } finally {
    await handle.close();
  }
}

/**
 * Writes a public file atomically: a new temporary file beside it (O_EXCL, so nothing planted is
 * written through), given `mode` whatever the umask, then renamed over `path`. `check`, if given,
 * is shown the temporary file as read back from the disk and throws to keep `path` as it was.
 */
export async function replaceFile(
  path: string,
  content: string | Uint8Array,
  mode: number,
  check?: (written: Buffer) => void,
): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporary, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    check?.(await readFile(temporary));
    await rename(temporary, path);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw e;
  }
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}
