/**
 * The real `openssl` binary (3.0 on this machine), for interop tests across modules: CSRs from fresh
 * keys, verification, text dumps. Each test works in its own temporary directory.
 */
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

/** The registry's algorithms, and two that it refuses (for bad-input tests). */
export type OpensslKeyAlgorithm = KeyAlgorithmId | "p521" | "rsa1024";

const newKeyArgs: Record<OpensslKeyAlgorithm, string[]> = {
  p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  p521: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
  ed25519: ["-newkey", "ed25519"],
  rsa1024: ["-newkey", "rsa:1024"],
  rsa2048: ["-newkey", "rsa:2048"],
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

let counter = 0;

/** The DER inside a single-block PEM file that openssl wrote. */
function pemBody(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
}

/** `openssl req -new` with a fresh key of the algorithm; `extra` adds e.g. `-addext` arguments. */
export async function opensslCsrWithKey(
  dir: Workdir,
  algorithm: OpensslKeyAlgorithm,
  subject = "/CN=device-001",
  extra: readonly string[] = [],
): Promise<{ pem: string; der: Uint8Array; keyFile: string }> {
  const name = `${algorithm}-${++counter}`;
  const keyFile = dir.file(`${name}.key`);
  await openssl([
    "req",
    "-new",
    ...newKeyArgs[algorithm],
    "-nodes",
    "-keyout",
    keyFile,
    "-subj",
    subject,
    ...extra,
    "-out",
    dir.file(`${name}.csr`),
  ]);
  const pem = await dir.read(`${name}.csr`);
  return { pem, der: pemBody(pem), keyFile };
}

/** The CSR's PEM, as a device would send it. */
export async function opensslCsr(
  dir: Workdir,
  algorithm: OpensslKeyAlgorithm,
  subject?: string,
  extra?: readonly string[],
): Promise<string> {
  return (await opensslCsrWithKey(dir, algorithm, subject, extra)).pem;
}

/** The CSR's DER, for tests of the parser itself. */
export async function opensslCsrDer(
  dir: Workdir,
  algorithm: OpensslKeyAlgorithm,
  subject?: string,
  extra?: readonly string[],
): Promise<Uint8Array> {
  return (await opensslCsrWithKey(dir, algorithm, subject, extra)).der;
}

/**
 * `openssl req -x509`: a self-signed certificate (an IDevID from a manufacturer, or someone else's
 * CA with `extra` extensions) with a fresh key. Files `<name>.pem` (certificate) and `<name>.key`.
 */
export async function opensslSelfSigned(
  dir: Workdir,
  name: string,
  subject: string,
  extra: readonly string[] = [],
  algorithm: OpensslKeyAlgorithm = "p256",
): Promise<{ pem: string; der: Uint8Array; certFile: string; keyFile: string }> {
  const certFile = dir.file(`${name}.pem`);
  const keyFile = dir.file(`${name}.key`);
  await openssl([
    "req",
    "-x509",
    ...newKeyArgs[algorithm],
    "-nodes",
    "-keyout",
    keyFile,
    "-subj",
    subject,
    "-days",
    "30",
    ...extra,
    "-out",
    certFile,
  ]);
  const pem = await dir.read(`${name}.pem`);
  return { pem, der: pemBody(pem), certFile, keyFile };
}

/**
 * `openssl verify -x509_strict [extra…]` of `leaf` against the chain a test keeps in its workdir:
 * `root.pem` as the trust anchor, `issuing.pem` as the untrusted intermediate.
 */
export function opensslVerifyChain(
  dir: Workdir,
  leaf: string,
  extra: readonly string[] = [],
): Promise<{ stdout: string; stderr: string }> {
  return openssl([
    "verify",
    "-x509_strict",
    ...extra,
    "-CAfile",
    dir.file("root.pem"),
    "-untrusted",
    dir.file("issuing.pem"),
    leaf,
  ]);
}
