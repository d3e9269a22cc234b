/** The real `openssl` binary, for interop tests: key and CSR generation, verification, inspection. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KeyAlgorithmId } from "../../src/crypto/index.js";

const exec = promisify(execFile);

export async function openssl(
  args: readonly string[],
  input?: string,
): Promise<{ stdout: string; stderr: string }> {
  const child = exec("openssl", [...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin?.end(input);
  return child;
}

const newKeyArgs: Record<KeyAlgorithmId, string[]> = {
  p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  ed25519: ["-newkey", "ed25519"],
  rsa3072: ["-newkey", "rsa:3072"],
  rsa4096: ["-newkey", "rsa:4096"],
};

export interface Workdir {
  readonly path: string;
  file(name: string): string;
  write(name: string, content: string | Uint8Array): Promise<string>;
  read(name: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function workdir(): Promise<Workdir> {
  const path = await mkdtemp(join(tmpdir(), "keyfleet-openssl-"));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, content) => {
      await writeFile(join(path, name), content);
      return join(path, name);
    },
    read: (name) => readFile(join(path, name), "utf8"),
    dispose: () => rm(path, { recursive: true, force: true }),
  };
}

/** `openssl req -new` with a fresh key of the algorithm; `extra` adds e.g. `-addext` arguments. Returns the CSR's PEM. */
export async function opensslCsr(
  dir: Workdir,
  algorithm: KeyAlgorithmId | "p521" | "rsa2048",
  subject = "/CN=device-001",
  extra: readonly string[] = [],
): Promise<string> {
  const keyArgs =
    algorithm === "p521"
      ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"]
      : algorithm === "rsa2048"
        ? ["-newkey", "rsa:2048"]
        : newKeyArgs[algorithm];
  const name = `${algorithm}-${Math.random().toString(36).slice(2)}`;
  await openssl([
    "req",
    "-new",
    ...keyArgs,
    "-nodes",
    "-keyout",
    dir.file(`${name}.key`),
    "-subj",
    subject,
    ...extra,
    "-out",
    dir.file(`${name}.csr`),
  ]);
  return dir.read(`${name}.csr`);
}
