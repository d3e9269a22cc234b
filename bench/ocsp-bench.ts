/**
 * OCSP throughput for cached responses (issue 17's goal: ≥ 5× `openssl ocsp` with p99 < 5 ms at
 * concurrency 16), side by side in one run: Keyfleet's plain-HTTP listener as `keyfleet serve`
 * runs it (logs at info to a file), and `openssl ocsp -index … -multi 2` answering for the same
 * certificates (the same serials and issuer; openssl signs every answer with its own P-256
 * responder key, as it has no cache). BENCH_OCSP_CERTIFICATES certificates are issued, one
 * request each without a nonce (RFC 5019), sent round-robin by a load generator in a child
 * process (bench/ocsp-client.ts) with keep-alive connections. Keyfleet's cache is warmed first, so
 * its timed requests are cache hits, which read no database (PGlite here; the store does not
 * matter to a hit). openssl closes each connection after its answer; that is its design. Each
 * round also measures a do-nothing node:http server with the same load generator: the ceiling of
 * this harness on this machine, so a reader sees how much of it the responder reaches.
 */
import { fork, spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer, connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { openApp } from "../src/app.js";
import { onScratchPGlite } from "../src/cli/issuance-bench.js";
import { loadConfig } from "../src/config.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers } from "../src/http/index.js";
import { createLogger } from "../src/logger.js";
import { der, ocspIssuerHashes, readCertificate, serialFromHex, toPem, writeCsr } from "../src/pki/index.js";
import { oid as oids } from "../src/pki/oids.js";
import { testSigner } from "../src/pki/test-signer.js";
import type { OcspClientJob, OcspClientResult } from "./ocsp-client.js";

export interface OcspBenchOptions {
  readonly certificates: number;
  readonly requests: number;
  readonly concurrency: number;
  /** Rounds of (ceiling, keyfleet, openssl), back to back, so a change in the machine's load hits all three. */
  readonly rounds: number;
  /** Load generator processes, sharing the connections and requests between them. */
  readonly clientProcesses: number;
}

export interface OcspBenchRun {
  readonly responder: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
  readonly firstFailure: string | undefined;
}

export interface OcspBenchRound {
  /** The 1-minute load average before the round. */
  readonly load: number;
  readonly runs: readonly OcspBenchRun[];
}

export interface OcspBenchReport {
  readonly options: OcspBenchOptions;
  readonly rounds: readonly OcspBenchRound[];
}

const ceiling = "do-nothing node:http";
const keyfleet = "keyfleet";
const opensslName = "openssl ocsp -multi 2";

export async function runOcspBench(options: OcspBenchOptions): Promise<OcspBenchReport> {
  return onScratchPGlite(async (database) => {
    const dataDir = await mkdtemp(join(tmpdir(), "keyfleet-ocsp-bench-"));
    const config = loadConfig(
      {
        dataDir,
        passphrase: "ocsp bench passphrase",
        logLevel: "info",
        host: "127.0.0.1",
        publicUrl: "http://127.0.0.1:8080",
        httpsPort: 0,
        httpPort: 0,
      },
      {},
    );
    const logger = createLogger("info", pino.destination({ dest: join(dataDir, "server.log"), sync: false }));
    const app = await openApp(config, logger, { database });
    let stopOpenssl: (() => Promise<void>) | undefined;
    try {
      await ensureInitialized(app, { algorithm: "p256" });
      await app.tasks.runNow("ocsp-responder");
      const issuing = (await app.authority.chain()).der[0]!;
      const serials: string[] = [];
      for (let i = 0; i < options.certificates; i++) {
        const csr = await writeCsr(
          { subject: [{ type: "CN", value: `ocsp-bench-${i}` }] },
          (await testSigner("p256")).signer,
        );
        serials.push((await app.authority.issue({ csr, profile: "client" })).serial);
      }
      const ders = serials.map((s) => ocspRequest(issuing, s));
      const requests = ders.map((d) => Buffer.from(d).toString("base64"));
      const servers = await startServers(app);
      const idle = await doNothingServer((await app.ocsp.answer(ders[0]!)).der);
      const port = await freePort();
      stopOpenssl = await opensslResponder(dataDir, issuing, serials, port);
      const rounds: OcspBenchRound[] = [];
      try {
        const job = { concurrency: options.concurrency, requests, total: options.requests };
        const clients = options.clientProcesses;
        for (let round = 0; round < options.rounds; round++) {
          const load = loadavg()[0]!;
          const runs: OcspBenchRun[] = [];
          runs.push(summary(ceiling, await inChildren({ ...job, url: idle.url, warmup: 16 }, clients)));
          // The first warm-up asks for every certificate once: each answer is then pre-signed and cached.
          const warmup = round === 0 ? requests.length : 16;
          runs.push(summary(keyfleet, await inChildren({ ...job, url: servers.httpUrl, warmup }, clients)));
          const openssl = `http://127.0.0.1:${port}`;
          runs.push(summary(opensslName, await inChildren({ ...job, url: openssl, warmup: 16 }, clients)));
          rounds.push({ load, runs });
        }
      } finally {
        await servers.close();
        await idle.close();
      }
      return { options, rounds };
    } finally {
      await stopOpenssl?.();
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

/**
 * The load generator's ceiling on this machine: a node:http server that reads each request and
 * answers it with the same bytes, doing nothing else (no parsing, no lookup, no metrics).
 */
async function doNothingServer(answer: Uint8Array): Promise<{ url: string; close: () => Promise<void> }> {
  const body = Buffer.from(answer);
  const server = createHttpServer((req, res) => {
    req.resume();
    req.once("end", () =>
      res
        .writeHead(200, { "content-type": "application/ocsp-response", "content-length": body.length })
        .end(body),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An OCSPRequest for one serial of `issuer`: one SHA-1 CertID, no nonce (what RFC 5019 clients send). */
function ocspRequest(issuer: Uint8Array, serialHex: string): Uint8Array {
  const { nameHash, keyHash } = ocspIssuerHashes(issuer).sha1;
  const certId = der.sequence(
    der.sequence(der.oid(oids.sha1), der.derNull),
    der.octetString(nameHash),
    der.octetString(keyHash),
    der.integer(serialFromHex(serialHex)),
  );
  return der.sequence(der.sequence(der.sequence(der.sequence(certId))));
}

/** `openssl ocsp` as a responder for `serials` (all valid), signing with a P-256 key of its own. */
async function opensslResponder(
  dir: string,
  issuing: Uint8Array,
  serials: readonly string[],
  port: number,
): Promise<() => Promise<void>> {
  const file = (name: string) => join(dir, name);
  await writeFile(file("issuing.pem"), toPem("CERTIFICATE", issuing));
  const expiry = readCertificate(issuing).notAfter.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  // index.txt (openssl ca's database): status, expiry, revocation, serial, file, subject — tab-separated.
  await writeFile(
    file("index.txt"),
    serials.map((s) => `V\t${expiry}\t\t${s}\tunknown\t/CN=bench-${s}\n`).join(""),
  );
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    file("responder.key"),
    "-out",
    file("responder.pem"),
    "-subj",
    "/CN=openssl responder",
    "-days",
    "2",
  ]);
  const child = spawn(
    "openssl",
    [
      "ocsp",
      "-index",
      file("index.txt"),
      "-port",
      String(port),
      "-rsigner",
      file("responder.pem"),
      "-rkey",
      file("responder.key"),
      "-CA",
      file("issuing.pem"),
      "-multi",
      "2",
      "-ignore_err",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // With -multi, openssl detaches (daemon(3): a new session, parent pid 1, working directory /) and
  // forks its workers: the process to stop is the one whose command line names this run's index.
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += String(c)));
  child.stderr!.on("data", (c: Buffer) => (output += String(c)));
  for (let i = 0; i < 300; i++) {
    if (await accepts(port)) return () => stopProcessesNaming(file("index.txt"));
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcessesNaming(file("index.txt"));
  throw new Error(`openssl ocsp did not listen on port ${port}: ${output.trim()}`);
}

/** Stops the processes whose command line holds `marker` (a path unique to this run); the workers end with their parent. */
async function stopProcessesNaming(marker: string): Promise<void> {
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) process.kill(Number(pid));
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The job run by `processes` load generators at once (each with its share of the connections and
 * requests), their timed runs started together once all have warmed up; one result for them all.
 */
async function inChildren(job: OcspClientJob, processes: number): Promise<OcspClientResult> {
  const shares = Array.from({ length: processes }, (_, i) => ({
    ...job,
    concurrency: Math.floor(job.concurrency / processes) + (i < job.concurrency % processes ? 1 : 0),
    total: Math.floor(job.total / processes) + (i < job.total % processes ? 1 : 0),
  }));
  const children = shares.map((share) => loadGenerator(share));
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    return {
      answered: results.reduce((n, r) => n + r.answered, 0),
      failures: results.reduce((n, r) => n + r.failures, 0),
      firstFailure: results.find((r) => r.firstFailure)?.firstFailure,
      seconds: Math.max(...results.map((r) => r.seconds)),
      latenciesMs: results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b),
    };
  } finally {
    for (const c of children) c.kill();
  }
}

function loadGenerator(job: OcspClientJob) {
  const child = fork(fileURLToPath(new URL("./ocsp-client.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
  });
  type Message = { ready?: true; result?: OcspClientResult; error?: string };
  const failed = new Promise<never>((_, reject) => {
    child.on("message", (m: Message) => {
      if (m.error) reject(new Error(`the OCSP load generator failed: ${m.error}`));
    });
    child.once("exit", (code) => reject(new Error(`the OCSP load generator exited with ${code}`)));
  });
  failed.catch(() => {}); // seen through `ready` or `result`
  const next = (field: "ready" | "result") =>
    Promise.race([
      new Promise<Message>((resolve) => child.on("message", (m: Message) => m[field] && resolve(m))),
      failed,
    ]);
  child.send(job);
  return {
    ready: next("ready"),
    result: next("result").then((m) => m.result!),
    go: () => child.send("go"),
    kill: () => child.exitCode === null && child.kill(),
  };
}

function summary(responder: string, r: OcspClientResult): OcspBenchRun {
  const latency = (q: number) =>
    r.latenciesMs[Math.min(r.latenciesMs.length - 1, Math.floor(q * r.latenciesMs.length))] ?? NaN;
  return {
    responder,
    requestsPerSecond: r.answered / r.seconds,
    p50Ms: latency(0.5),
    p99Ms: latency(0.99),
    failures: r.failures,
    firstFailure: r.firstFailure,
  };
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};

export function formatOcspBench(report: OcspBenchReport): string {
  const { options, rounds } = report;
  const lines = [
    `OCSP, cached responses: ${options.requests} requests per run over ${options.certificates} certificates, concurrency ${options.concurrency} (${options.clientProcesses} load generator process(es), one connection per request in flight, no pipelining); keyfleet: one process; ${rounds.length} rounds`,
  ];
  const ratios: number[] = [];
  for (const [i, round] of rounds.entries()) {
    lines.push(`  round ${i + 1} (load ${round.load.toFixed(2)})`);
    for (const r of round.runs) {
      lines.push(
        `    ${r.responder.padEnd(24)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms` +
          (r.failures ? `  ${r.failures} failed (${r.firstFailure})` : ""),
      );
    }
    const ours = round.runs.find((r) => r.responder === keyfleet);
    const theirs = round.runs.find((r) => r.responder === opensslName);
    if (ours && theirs && theirs.requestsPerSecond > 0) {
      ratios.push(ours.requestsPerSecond / theirs.requestsPerSecond);
      lines.push(`    ratio ${ratios.at(-1)!.toFixed(1)}×`);
    }
  }
  const of = (name: string, field: "requestsPerSecond" | "p99Ms") =>
    median(rounds.flatMap((r) => r.runs.filter((x) => x.responder === name).map((x) => x[field])));
  lines.push(
    `  median: ${ceiling} ${of(ceiling, "requestsPerSecond").toFixed(0)} req/s; keyfleet ${of(keyfleet, "requestsPerSecond").toFixed(0)} req/s p99 ${of(keyfleet, "p99Ms").toFixed(2)} ms; ${opensslName} ${of(opensslName, "requestsPerSecond").toFixed(0)} req/s; ratio ${median(ratios).toFixed(1)}× (goal ≥ 5×, p99 < 5 ms)`,
  );
  return lines.join("\n");
}
