/**
 * How fast the installed `keyfleet` command answers (issue 12's goals: --help < 150 ms, a read
 * command on PostgreSQL < 300 ms, a command forwarded to a running server < 300 ms), as the median
 * of N runs of the built CLI (bin/keyfleet.js → dist/), each a fresh process, in scratch space that
 * is removed afterwards: a PostgreSQL schema and a PGlite data directory with a server on it.
 *
 * Node itself takes time to start (≈ 50 ms on an idle 2-core machine, three times that when other
 * work shares the cores), and no CLI can answer faster. So each command's runs alternate with runs
 * of `node -e 0`, the floor, and the report gives both medians and the difference: what Keyfleet
 * adds, comparable between runs on a quiet and a loaded machine.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";

export interface CliTiming {
  readonly name: string;
  readonly goalMs: number;
  readonly medianMs: number;
  /** `node -e 0`, run alternately with the command. */
  readonly floorMs: number;
  readonly runs: number;
}

function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv = {}): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
}

function measure(
  name: string,
  goalMs: number,
  bin: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  runs: number,
): CliTiming {
  const floor = ["-e", "0"];
  timeOnce(floor);
  timeOnce([bin, ...args], env); // warm the file cache
  const command: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(timeOnce(floor));
    command.push(timeOnce([bin, ...args], env));
  }
  return { name, goalMs, medianMs: median(command), floorMs: median(node), runs };
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
  const results: CliTiming[] = [measure("keyfleet --help", 150, bin, ["--help"], {}, runs)];

  const schema = `keyfleet_bench_cli_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const data = await mkdtemp(join(tmpdir(), "keyfleet-bench-cli-"));
  try {
    await admin.query(`create schema ${schema}`);
    const u = new URL(postgresUrl);
    u.searchParams.set("options", `-c search_path=${schema}`);
    const env = { DATABASE_URL: u.toString(), KEYFLEET_PASSPHRASE: "bench passphrase, scratch only" };
    timeOnce([bin, "--data", data, "init"], env);
    results.push(
      measure("keyfleet ca list (PostgreSQL)", 300, bin, ["--data", data, "ca", "list"], env, runs),
    );

    const pglite = join(data, "pglite-data");
    results.push(
      await withServer(bin, pglite, () =>
        measure(
          "keyfleet ca list (forwarded to a running server)",
          300,
          bin,
          ["--data", pglite, "ca", "list"],
          { DATABASE_URL: "" },
          runs,
        ),
      ),
    );
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    await rm(data, { recursive: true, force: true });
  }
  return results;
}

export function formatCliTiming(results: readonly CliTiming[]): string {
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const [one, five] = loadavg();
  return [
    `CLI response time (median of ${results[0]?.runs ?? 0} fresh processes, each beside a run of \`node -e 0\`; load average ${one!.toFixed(1)}/${five!.toFixed(1)} on ${availableParallelism()} cores)`,
    `  ${"".padEnd(50)} ${"keyfleet".padStart(8)} ${"node -e 0".padStart(10)} ${"keyfleet adds".padStart(14)}`,
    ...results.map((r) => {
      const verdict =
        r.medianMs < r.goalMs
          ? "met"
          : r.floorMs >= r.goalMs
            ? `NOT met: node alone takes ${ms(r.floorMs)} here`
            : "NOT met";
      return `  ${r.name.padEnd(50)} ${ms(r.medianMs).padStart(8)} ${ms(r.floorMs).padStart(10)} ${`+${ms(r.medianMs - r.floorMs)}`.padStart(14)}   goal < ${r.goalMs} ms: ${verdict}`;
    }),
  ].join("\n");
}
