/**
 * TEST SUPPORT ONLY — not exported from index.ts. The real `openssl` (3.0 at /usr/bin/openssl) for
 * interop tests: CSRs from fresh keys, verification, text dumps; each test works in its own temp dir.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KeyAlgorithmId } from "../crypto/algorithms.js";

const exec = promisify(execFile);

export async function openssl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return exec("openssl", [...args], { maxBuffer: 16 * 1024 * 1024 });
}

export type OpensslKeyAlgorithm = KeyAlgorithmId | "p521" | "rsa2048";

const newKey: Record<OpensslKeyAlgorithm, string[]> = {
  p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  p521: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
  ed25519: ["-newkey", "ed25519"],
  rsa2048: ["-newkey", "rsa:2048"],
  rsa3072: ["-newkey", "rsa:3072"],
  rsa4096: ["-newkey", "rsa:4096"],
};

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  write(name: string, content: string | Uint8Array): Promise<string>;
  dispose(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), "keyfleet-pki-"));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, content) => {
      await writeFile(join(path, name), content);
      return join(path, name);
    },
    dispose: () => rm(path, { recursive: true, force: true }),
  };
}

let counter = 0;

/** `openssl req -new` with a fresh key; the CSR as DER and the key's file. `extra` adds e.g. `-addext` arguments. */
export async function opensslCsrWithKey(
  dir: TempDir,
  algorithm: OpensslKeyAlgorithm,
  subject = "/CN=device-001",
  extra: readonly string[] = [],
): Promise<{ der: Uint8Array; keyFile: string }> {
  const name = `${algorithm}-${++counter}`;
  const keyFile = dir.file(`${name}.key`);
  await openssl([
    "req",
    "-new",
    ...newKey[algorithm],
    "-nodes",
    "-keyout",
    keyFile,
    "-subj",
    subject,
    ...extra,
    "-outform",
    "DER",
    "-out",
    dir.file(`${name}.csr`),
  ]);
  return { der: new Uint8Array(await readFile(dir.file(`${name}.csr`))), keyFile };
}

export async function opensslCsr(
  dir: TempDir,
  algorithm: OpensslKeyAlgorithm,
  subject?: string,
  extra?: readonly string[],
): Promise<Uint8Array> {
  return (await opensslCsrWithKey(dir, algorithm, subject, extra)).der;
}
