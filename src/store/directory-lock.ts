/**
 * One process per PGlite directory. PGlite is Postgres inside this process: a second process that
 * opens the same files reads stale pages and its writes are lost when the first one checkpoints
 * (measured: a `token create` beside a running `serve` printed a token the server never saw, and
 * a restart erased it). The lock is a file beside the directory holding the owner's pid; a lock
 * whose process is gone is stale and taken over.
 */
import { open, readFile, rm } from "node:fs/promises";
import { KeyfleetError } from "../domain/index.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Takes the lock on `directory` (the file `<directory>.lock`); resolves to its release. */
export async function lockDirectory(directory: string): Promise<() => Promise<void>> {
  const path = `${directory}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new KeyfleetError("store-unavailable", `cannot lock ${directory}: ${(e as Error).message}`);
      }
    }
    const pid = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (attempt > 0 || (Number.isInteger(pid) && alive(pid))) {
      const who = pid === process.pid ? "this process" : `another process (pid ${pid})`;
      throw new KeyfleetError(
        "store-unavailable",
        `the database in ${directory} is already open in ${who}; PGlite serves one process at a time: stop it, or use its API (PostgreSQL serves several)`,
      );
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
}
