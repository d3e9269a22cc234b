/**
 * Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), so that any
 * signed-note verifier can check our tree heads without our code. The note text is three lines:
 *
 *     <origin>
 *     <tree size, decimal>
 *     <root hash, base64>
 *
 * then an empty line and one signature line per signer: "— <key name> <base64(key hash ‖ signature)>",
 * where the key hash is the first 4 bytes of SHA-256(<key name> ‖ "\n" ‖ 0x01 ‖ Ed25519 public key)
 * and the signature is Ed25519 over the note text (its three lines, each ending in "\n"). The
 * verifier key string is "<key name>+<key hash, 8 hex digits>+<base64(0x01 ‖ public key)>".
 * Pure: signing is a parameter (the Signer port), verification uses node:crypto alone.
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";

const ED25519_ALGORITHM = 0x01;
// The SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410): the 32 key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The raw Ed25519 key from its SubjectPublicKeyInfo (what the Signer port gives). */
export function ed25519KeyOf(spki: Uint8Array): Uint8Array {
  const der = Buffer.from(spki);
  if (der.length !== 44 || !der.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) {
    throw new KeyfleetError("internal", "the audit key is not an Ed25519 key");
  }
  return new Uint8Array(der.subarray(12));
}

function keyHash(name: string, publicKey: Uint8Array): Uint8Array {
  return createHash("sha256")
    .update(name, "utf8")
    .update("\n")
    .update(Uint8Array.of(ED25519_ALGORITHM))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** A key name is non-empty and has no spaces or plus signs (c2sp.org/signed-note). */
function checkKeyName(name: string): void {
  if (!/^[^\s+]+$/u.test(name)) throw new KeyfleetError("invalid-configuration", `bad note key name ${name}`);
}

export function verifierKey(name: string, publicKey: Uint8Array): string {
  checkKeyName(name);
  const hash = Buffer.from(keyHash(name, publicKey)).toString("hex");
  return `${name}+${hash}+${Buffer.concat([Uint8Array.of(ED25519_ALGORITHM), publicKey]).toString("base64")}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  const bad = () =>
    new KeyfleetError(
      "malformed-request",
      "a verifier key is <name>+<8 hex digits>+<base64 key>, as `keyfleet audit key` prints it",
    );
  const m = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(text.trim());
  if (!m) throw bad();
  const key = Buffer.from(m[3]!, "base64");
  if (key.length !== 33 || key[0] !== ED25519_ALGORITHM) throw bad();
  const verifier = {
    name: m[1]!,
    keyHash: Buffer.from(m[2]!, "hex"),
    publicKey: new Uint8Array(key.subarray(1)),
  };
  if (!Buffer.from(keyHash(verifier.name, verifier.publicKey)).equals(verifier.keyHash)) {
    throw new KeyfleetError("malformed-request", "the verifier key's hash does not match its name and key");
  }
  return verifier;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString("base64")}\n`;
}

/** Signs a checkpoint: the signed note's full text. */
export async function signCheckpoint(
  c: Checkpoint,
  signer: { readonly publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> },
  name: string,
): Promise<string> {
  checkKeyName(name);
  const text = checkpointText(c);
  const signature = await signer.sign(new TextEncoder().encode(text));
  const hash = keyHash(name, ed25519KeyOf(signer.publicKey));
  return `${text}\n\u2014 ${name} ${Buffer.concat([hash, signature]).toString("base64")}\n`;
}

/**
 * The text of a signed note, once a signature line of `verifier` verifies over it; `bad-signature`
 * when none does, `malformed-request` when it is not a signed note.
 */
export function openNote(note: string, verifier: NoteVerifier): string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) {
    throw new KeyfleetError("malformed-request", "not a signed note: no signature block");
  }
  const text = note.slice(0, split + 1);
  const key = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, verifier.publicKey]),
    format: "der",
    type: "spki",
  });
  const signed = note
    .slice(split + 2, -1)
    .split("\n")
    .some((line) => {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
      if (!m || m[1] !== verifier.name) return false;
      const blob = Buffer.from(m[2]!, "base64");
      if (blob.length !== 68 || !blob.subarray(0, 4).equals(verifier.keyHash)) return false;
      return verify(null, Buffer.from(text, "utf8"), key, blob.subarray(4));
    });
  if (!signed) throw new KeyfleetError("bad-signature", `the note is not signed by ${verifier.name}`);
  return text;
}

/** A checkpoint note's text (c2sp.org/tlog-checkpoint): origin, size, root; extension lines ignored. */
export function parseCheckpoint(text: string): Checkpoint {
  const malformed = (why: string) => new KeyfleetError("malformed-request", `not a checkpoint: ${why}`);
  const lines = text.split("\n").slice(0, -1);
  if (lines.length < 3) throw malformed("fewer than three lines");
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw malformed("the size is not a decimal number");
  const root = Buffer.from(rootText, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootText)
    throw malformed("the root is not 32 bytes of base64");
  return { origin, size: Number(sizeText), root: new Uint8Array(root) };
}

/** A signed checkpoint, verified by `verifier` and parsed. */
export function openCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  return parseCheckpoint(openNote(note, verifier));
}
