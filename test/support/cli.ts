/** Runs the real `keyfleet` command (from source, through tsx) as a user would. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const entry = ["--import", "tsx", "src/cli/entry.ts"];

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function keyfleet(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args],
      {
        cwd: root,
        env: { ...process.env, KEYFLEET_PASSPHRASE: "", DATABASE_URL: "", ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `keyfleet serve`; resolves once it prints its banner. */
export function keyfleetServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; banner: string; output: () => string }> {
  const child = spawn(process.execPath, [...entry, "serve", ...args], {
    cwd: root,
    env: { ...process.env, KEYFLEET_PASSPHRASE: "", DATABASE_URL: "", ...env },
  });
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

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
