import { link, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FileKeyStore } from "./file-key-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "keyfleet-file-keys-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("file key store erase", () => {
  test("overwrites the key's own blocks with random bytes before unlinking it", async () => {
    const store = new FileKeyStore(join(dir, "keys"));
    const ref = await store.generate("p256");
    const path = join(dir, "keys", ref.uri.slice("keyfleet-file:".length));
    const before = await readFile(path);
    // A second name for the same inode sees what happens to the key's blocks after the unlink.
    await link(path, join(dir, "witness"));
    await store.destroy(ref);
    expect(await readdir(join(dir, "keys"))).toEqual([]);
    const after = await readFile(join(dir, "witness"));
    expect(after.length).toBe(before.length);
    expect(after.equals(before)).toBe(false);
    await expect(store.signer(ref)).rejects.toMatchObject({ code: "key-not-found" });
  });

  test("destroying a key that is already gone is not an error (an interrupted erase resumes)", async () => {
    const store = new FileKeyStore(join(dir, "keys"));
    const ref = await store.generate("p256");
    await store.destroy(ref);
    await expect(store.destroy(ref)).resolves.toBeUndefined();
  });
});
