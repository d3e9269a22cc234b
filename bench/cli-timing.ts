/**
 * How fast the installed `keyfleet` command answers (issue 12's goals: --help < 150 ms, a read
 * command on PostgreSQL < 300 ms, a command forwarded to a running server < 300 ms), as the median
 * of N runs of the built CLI (bin/keyfleet.js → dist/), each a fresh process, in scratch space that
 * is removed afterwards: a PostgreSQL schema and a PGlite data directory with a server on it.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";

export interface CliTiming {
  readonly name: string;
  readonly goalMs: number;
  readonly medianMs: number | null;
  readonly runs: number;
  readonly note?: string;
}

function timeOnce(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`keyfleet ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

function median(bin: string, args: readonly string[], env: NodeJS.ProcessEnv, runs: number): number {
  timeOnce(bin, args, env); // warm the file cache
  const times = Array.from({ length: runs }, () => timeOnce(bin, args, env)).sort((a, b) => a - b);
  return (times[Math.floor((runs - 1) / 2)]! + times[Math.ceil((runs - 1) / 2)]!) / 2;
}

async function withServer<T>(bin: string, data: string, work: () => T): Promise<T> {
  const child = spawn(
    process.execPath,
    [
      bin,
      "--data",
      data,
      "serve",
      "--https-port",
      "0",
      "--http-port",
      "0",
      "--public-url",
      "http://pki.bench.invalid",
    ],
    {
      env: { ...process.env, KEYFLEET_PASSPHRASE: "" },
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on(
        "data",
        (c: Buffer) => (out += c.toString()) && out.includes("admin token") && resolve(),
      );
      child.once("exit", (code) => reject(new Error(`keyfleet serve exited with ${code}`)));
    });
    return work();
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

export async function runCliTiming(options: {
  bin: string;
  postgresUrl: string;
  runs: number;
}): Promise<CliTiming[]> {
  const { bin, postgresUrl, runs } = options;
  const results: CliTiming[] = [];
  results.push({ name: "keyfleet --help", goalMs: 150, medianMs: median(bin, ["--help"], {}, runs), runs });

  const schema = `keyfleet_bench_cli_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const data = await mkdtemp(join(tmpdir(), "keyfleet-bench-cli-"));
  try {
    await admin.query(`create schema ${schema}`);
    const u = new URL(postgresUrl);
    u.searchParams.set("options", `-c search_path=${schema}`);
    const env = { DATABASE_URL: u.toString(), KEYFLEET_PASSPHRASE: "bench passphrase, scratch only" };
    timeOnce(bin, ["--data", data, "init"], env);
    results.push({
      name: "keyfleet ca list (PostgreSQL)",
      goalMs: 300,
      medianMs: median(bin, ["--data", data, "ca", "list"], env, runs),
      runs,
    });

    const pglite = join(data, "pglite-data");
    results.push(
      await withServer(bin, pglite, () => ({
        name: "keyfleet ca list (forwarded to a running server)",
        goalMs: 300,
        medianMs: median(bin, ["--data", pglite, "ca", "list"], { DATABASE_URL: "" }, runs),
        runs,
      })),
    );
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    await rm(data, { recursive: true, force: true });
  }
  return results;
}

export function formatCliTiming(results: readonly CliTiming[]): string {
  return [
    "CLI response time (median of fresh processes)",
    ...results.map(
      (r) =>
        `  ${r.name.padEnd(50)} ${r.medianMs === null ? "n/a" : `${r.medianMs.toFixed(0)} ms`.padStart(7)}   goal < ${r.goalMs} ms   ${r.medianMs !== null && r.medianMs < r.goalMs ? "met" : "NOT met"}`,
    ),
  ].join("\n");
}
