import { expect, test } from "vitest";
import { GroupCommit } from "./group-commit.js";

/** A promise with its resolver, to hold a commit open until the test lets it finish. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test("requests that arrive during a commit are written together in the next one", async () => {
  const batches: number[][] = [];
  const entered = gate();
  const release = gate();
  const gc = new GroupCommit<number, string>(async (items) => {
    batches.push([...items]);
    if (batches.length === 1) {
      entered.open();
      await release.promise;
    }
    return items.map((i) => `ok ${i}`);
  });
  const first = gc.submit(1);
  await entered.promise; // the first commit is under way
  const rest = [2, 3, 4].map((i) => gc.submit(i));
  release.open();
  expect(await Promise.all([first, ...rest])).toEqual(["ok 1", "ok 2", "ok 3", "ok 4"]);
  expect(batches).toEqual([[1], [2, 3, 4]]);
});

test("requests whose work finishes in the same turn of the event loop share one commit", async () => {
  const batches: number[][] = [];
  const gc = new GroupCommit<number, number>(async (items) => {
    batches.push([...items]);
    return items;
  });
  // Each request finishes its own I/O first, as issuance does (CSR verified on another thread).
  const viaIo = (i: number) => new Promise<number>((r) => setImmediate(() => r(gc.submit(i))));
  await Promise.all([1, 2, 3, 4, 5].map(viaIo));
  expect(batches).toEqual([[1, 2, 3, 4, 5]]);
});

test("a failed commit rejects exactly its own batch and the next batch still commits", async () => {
  const entered = gate();
  const release = gate();
  let calls = 0;
  const gc = new GroupCommit<number, number>(async (items) => {
    if (++calls === 1) {
      entered.open();
      await release.promise;
      throw new Error("disk full");
    }
    return items.map((i) => i * 10);
  });
  const first = gc.submit(1);
  await entered.promise;
  const rest = Promise.all([gc.submit(2), gc.submit(3)]);
  release.open();
  await expect(first).rejects.toThrow("disk full");
  await expect(rest).resolves.toEqual([20, 30]);
});

test("an item that cannot be written fails alone: the rest of its batch is written without it", async () => {
  const batches: number[][] = [];
  const gc = new GroupCommit<number, number>(async (items) => {
    batches.push([...items]);
    if (items.includes(2)) throw new Error(`item 2 violates a constraint`);
    return items.map((i) => i * 10);
  });
  const viaIo = (i: number) => new Promise<number>((r) => setImmediate(() => r(gc.submit(i))));
  const settled = await Promise.allSettled([1, 2, 3].map(viaIo));
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(settled[0]).toMatchObject({ value: 10 });
  expect(settled[1]).toMatchObject({ reason: new Error("item 2 violates a constraint") });
  expect(settled[2]).toMatchObject({ value: 30 });
  expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
});

test("never puts more than maxBatch items in one commit", async () => {
  const sizes: number[] = [];
  const gc = new GroupCommit<number, number>(async (items) => {
    sizes.push(items.length);
    return items;
  }, 3);
  await Promise.all(Array.from({ length: 10 }, (_, i) => gc.submit(i)));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
});
