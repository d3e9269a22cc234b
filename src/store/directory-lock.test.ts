import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { testDatabase } from "../../test/support/databases.js";
import { openDatabase } from "./database.js";
import { lockDirectory } from "./directory-lock.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "keyfleet-lock-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

test("a PGlite directory opens once; a second open is refused until the first closes", async () => {
  const db = await testDatabase("pglite");
  try {
    const dataDir = db.dataDir!;
    await expect(openDatabase({ dataDir })).rejects.toMatchObject({
      code: "store-unavailable",
      message: expect.stringMatching(/already open in this process.*one process at a time/),
    });
    await db.database.close();
    const again = await openDatabase({ dataDir });
    await again.close();
  } finally {
    await db.dispose();
  }
});

test("a lock whose process is gone is taken over; a live one names its pid", async () => {
  const dir = join(root, "data");
  await writeFile(`${dir}.lock`, "2147483646\n"); // no such process
  const release = await lockDirectory(dir);
  expect(await readFile(`${dir}.lock`, "utf8")).toBe(`${process.pid}\n`);
  await release();

  await writeFile(`${dir}.lock`, `${process.ppid}\n`); // alive: the test runner's parent
  await expect(lockDirectory(dir)).rejects.toThrow(new RegExp(`another process \\(pid ${process.ppid}\\)`));
});
