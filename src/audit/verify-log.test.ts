import { generateKeyPairSync, sign } from "node:crypto";
import { expect, test } from "vitest";
import { encodeEntry, entryOf } from "./entry.js";
import { appendLeaves, leafHash, rangeHash } from "./merkle.js";
import { ed25519KeyOf, parseVerifierKey, signCheckpoint, verifierKey } from "./signed-note.js";
import { verifyLog, type LeafToVerify } from "./verify-log.js";

const name = "pki.example.test/keyfleet/audit/00000000";
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const signer = {
  publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
  sign: async (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)),
};
const verifier = parseVerifierKey(verifierKey(name, ed25519KeyOf(signer.publicKey)));
const utf8 = (t: string) => new TextEncoder().encode(t);

const texts = Array.from({ length: 9 }, (_, i) =>
  encodeEntry(
    entryOf({ type: "token.created", actor: "system", subject: `token:${i}`, details: { i } }, new Date(0)),
  ),
);
const rootOf = (size: number) =>
  rangeHash(
    appendLeaves(
      0,
      [],
      texts.slice(0, size).map((t) => leafHash(utf8(t))),
    ).frontier,
  );
const checkpoint = (size: number, root = rootOf(size)) =>
  signCheckpoint({ origin: name, size, root }, signer, name);
async function* leaves(list: readonly string[]): AsyncGenerator<LeafToVerify> {
  for (const [index, text] of list.entries()) yield { index, text };
}

test("entries and checkpoints that agree verify, and say how many entries no checkpoint covers yet", async () => {
  const verdict = await verifyLog(leaves(texts), [await checkpoint(4), await checkpoint(7)], verifier);
  expect(verdict).toMatchObject({ ok: true, entries: 9, checkpoints: 2, uncovered: 2 });
});

test("two signed checkpoints of one size with different roots are a fork", async () => {
  const forked = await checkpoint(4, rootOf(5));
  const verdict = await verifyLog(leaves(texts), [await checkpoint(4), forked], verifier);
  expect(verdict).toMatchObject({
    ok: false,
    problem: expect.stringMatching(/two checkpoints of size 4 have different roots/),
  });
});

test("an entry moved between checkpoints is bracketed by the checkpoint it breaks", async () => {
  const moved = [...texts];
  [moved[5], moved[6]] = [moved[6]!, moved[5]!];
  const verdict = await verifyLog(leaves(moved), [await checkpoint(4), await checkpoint(7)], verifier);
  expect(verdict).toMatchObject({
    ok: false,
    problem: expect.stringMatching(/checkpoint 7 does not match the entries: one of entries 4–6/),
  });
});

test("a checkpoint by another key, or beyond the entries, fails", async () => {
  const other = parseVerifierKey(
    verifierKey(
      name,
      ed25519KeyOf(
        new Uint8Array(generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" })),
      ),
    ),
  );
  expect(await verifyLog(leaves(texts), [await checkpoint(4)], other)).toMatchObject({
    ok: false,
    problem: expect.stringMatching(/does not verify/),
  });
  expect(await verifyLog(leaves(texts.slice(0, 3)), [await checkpoint(4)], verifier)).toMatchObject({
    ok: false,
    problem: expect.stringMatching(/covers entries beyond the last one/),
  });
});
