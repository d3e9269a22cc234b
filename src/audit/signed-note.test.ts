import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  ed25519KeyOf,
  openCheckpoint,
  openNote,
  parseVerifierKey,
  signCheckpoint,
  verifierKey,
} from "./signed-note.js";

// The example of golang.org/x/mod/sumdb/note (its package documentation and note_test.go): a note
// signed by another implementation, which ours must open, and whose key hash ours must derive.
const goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const goText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const goNote =
  goText +
  "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

function testSigner() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    sign: async (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)),
  };
}

describe("signed notes (c2sp.org/signed-note)", () => {
  test("open the Go reference note and derive its key hash", () => {
    const verifier = parseVerifierKey(goVerifierKey);
    expect(verifierKey(verifier.name, verifier.publicKey)).toBe(goVerifierKey);
    expect(openNote(goNote, verifier)).toBe(goText);
    expect(() => openNote(goNote.replace("cryptography", "cryptographY"), verifier)).toThrow(/not signed/);
  });

  test("a checkpoint we sign opens with our verifier key string, and not with another's", async () => {
    const signer = testSigner();
    const name = "pki.example.test/keyfleet/audit/0a1b2c3d";
    const root = new Uint8Array(32).fill(7);
    const note = await signCheckpoint({ origin: name, size: 42, root }, signer, name);
    expect(note).toMatch(
      /^pki\.example\.test\/keyfleet\/audit\/0a1b2c3d\n42\nBwcH[A-Za-z0-9+/]+=\n\n\u2014 pki\.example\.test\/keyfleet\/audit\/0a1b2c3d [A-Za-z0-9+/]{91}=\n$/,
    );
    const key = verifierKey(name, ed25519KeyOf(signer.publicKey));
    expect(openCheckpoint(note, parseVerifierKey(key))).toEqual({ origin: name, size: 42, root });
    const other = verifierKey(name, ed25519KeyOf(testSigner().publicKey));
    expect(() => openCheckpoint(note, parseVerifierKey(other))).toThrow(/not signed/);
    expect(() => openCheckpoint(note.replace("\n42\n", "\n43\n"), parseVerifierKey(key))).toThrow(
      /not signed/,
    );
  });

  test.each([
    ["no signature block", "origin\n1\nroot\n"],
    ["a size that is not decimal", "o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"],
    ["a short root", "o\n1\nAAAA\n"],
  ])("refuses a checkpoint with %s", async (_why, text) => {
    const signer = testSigner();
    const key = parseVerifierKey(verifierKey("o", ed25519KeyOf(signer.publicKey)));
    const sig = Buffer.from(await signer.sign(new TextEncoder().encode(text))).toString("base64");
    const note = text.includes("AAAA")
      ? `${text}\n\u2014 o ${Buffer.concat([key.keyHash, Buffer.from(sig, "base64")]).toString("base64")}\n`
      : text;
    expect(() => openCheckpoint(note, key)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });

  test.each([
    "",
    "name+c74f20a3",
    "name+zzzzzzzz+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  ])("refuses the verifier key %j", (text) => {
    expect(() => parseVerifierKey(text)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });
});
