/**
 * Running the `keyfleet` command in tests. `runCli` calls `main()` in this process, with its own
 * output and environment: the same code a user runs, without a child process and a TypeScript
 * loader per command (which, on a loaded 2-core machine, cost tens of seconds a case). `keyfleet`
 * runs the real command as a child, for what only a process shows: exit codes, stdout and stderr
 * apart, signals, the database lock.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
// Absolute, so a command started in another directory (the README test's) finds them too.
const entry = [
  "--import",
  new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href,
  `${root}src/cli/entry.ts`,
];

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Settings of the machine the tests run on that must not leak into a command under test. */
function isolated(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KEYFLEET_PASSPHRASE: "",
    DATABASE_URL: "",
    KEYFLEET_DATA: "",
    KEYFLEET_PUBLIC_URL: "",
    KEYFLEET_PKCS11_MODULE: "",
    KEYFLEET_PKCS11_TOKEN: "",
    KEYFLEET_PKCS11_PIN: "",
    KEYFLEET_PKCS11_PIN_FILE: "",
    ...env,
  };
}

/** `keyfleet ARGS` in this process. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "keyfleet", ...args], {
    out: (text) => (stdout += text.endsWith("\n") ? text : text + "\n"),
    err: (text) => (stderr += text.endsWith("\n") ? text : text + "\n"),
    env: isolated(env),
  });
  return { code, stdout, stderr };
}

/** `keyfleet` as a command line for another program to run (a consumer's command): this checkout's source. */
export const keyfleetCommand: readonly string[] = [process.execPath, ...entry];

/** What a child process runs: the TypeScript sources, or `bin` (a built bin/keyfleet.js). */
const command = (bin?: string): readonly string[] => (bin === undefined ? entry : [bin]);

/** `keyfleet ARGS` as a child process. */
export function keyfleet(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  bin?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...command(bin), ...args],
      { cwd: root, env: isolated(env), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `keyfleet serve`; resolves once it prints its banner. */
export function keyfleetServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd: string = root,
  bin?: string,
): Promise<{ child: ChildProcess; banner: string; output: () => string }> {
  const child = spawn(process.execPath, [...command(bin), "serve", ...args], { cwd, env: isolated(env) });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("first admin token") || output.includes("admin tokens:"))
        resolve({ child, banner: output, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`keyfleet serve exited with ${code}: ${output}`)));
  });
}

/** Starts `keyfleet ARGS` as a child process that runs until stopped (a consumer); its output is kept. */
export function keyfleetChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: root, env: isolated(env) });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
