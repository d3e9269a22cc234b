/**
 * EST enrollment throughput (issue 16's goal: ≥ 1,500 enrollments/s on PostgreSQL at concurrency
 * 16, each with a durable record and an audit leaf): the server as `keyfleet serve` runs it (HTTPS
 * with client certificates, CSR workers, logs at info to a file), a registered manufacturer CA, and
 * for each concurrency BENCH_EST_DEVICES fresh devices registered with their IDevIDs. Every device
 * enrolls once over a new TLS connection with its IDevID as client certificate (bench/est-client.ts,
 * in a child process). After each run the database must hold one certificate and one
 * certificate.issued leaf per enrolled device, and each device must be provisioned; a shortfall
 * counts as failures. On a scratch PGlite directory and a scratch PostgreSQL schema.
 */
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import pino from "pino";
import { openApp, type App } from "../src/app.js";
import { onScratchPGlite, onScratchSchema } from "../src/cli/issuance-bench.js";
import { loadConfig } from "../src/config.js";
import { ensureInitialized } from "../src/first-run.js";
import { startServers } from "../src/http/index.js";
import { createLogger } from "../src/logger.js";
import { toPem, writeCsr } from "../src/pki/index.js";
import { testCertificate, testKeyPair, type TestCertificate } from "../src/pki/test-certificate.js";
import { testSigner } from "../src/pki/test-signer.js";
import { systemCaller } from "../src/policy/index.js";
import type { Database, DatabaseKind } from "../src/store/index.js";
import type { EstClientJob, EstClientResult, EstDevice } from "./est-client.js";

export interface EstBenchOptions {
  readonly devices: number;
  readonly stores: readonly DatabaseKind[];
  readonly concurrency: readonly number[];
  readonly postgresUrl: string;
}

export interface EstBenchRun {
  readonly store: DatabaseKind;
  readonly concurrency: number;
  readonly devices: number;
  readonly enrollmentsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
  readonly firstFailure: string | undefined;
  /**
   * CPU time per enrollment of the server process (every thread: event loop and CSR workers) and
   * of the load generator, ms: what the machine's other users do not change much.
   */
  readonly serverCpuMs: number;
  readonly clientCpuMs: number;
  /** The machine's 1-minute load average as the run started (the machine is shared). */
  readonly loadBefore: number;
}

const manufacturer = "Bench Devices Inc";
const warmupDevices = 16;
const DAY = 86_400_000;

export async function runEstBench(options: EstBenchOptions): Promise<EstBenchRun[]> {
  const runs: EstBenchRun[] = [];
  for (const store of options.stores) {
    const work = (database: Database) => benchStore(database, options, runs);
    if (store === "pglite") await onScratchPGlite(work);
    else await onScratchSchema(options.postgresUrl, work);
  }
  return runs;
}

async function benchStore(database: Database, options: EstBenchOptions, runs: EstBenchRun[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "keyfleet-est-bench-"));
  const config = loadConfig(
    {
      dataDir,
      passphrase: "est bench passphrase",
      logLevel: "info",
      host: "127.0.0.1",
      publicUrl: "http://127.0.0.1:8080", // written into certificates; nothing listens there in the bench
      httpsPort: 0,
      httpPort: 0,
    },
    {},
  );
  // As `keyfleet serve` logs, but to a file, not this table's stdout.
  const logger = createLogger("info", pino.destination({ dest: join(dataDir, "server.log"), sync: false }));
  const app = await openApp(config, logger, { database, csrWorkers: availableParallelism() });
  try {
    await ensureInitialized(app, { algorithm: "p256" });
    const ca = manufacturerCa();
    await app.manufacturers.add(systemCaller, { name: manufacturer, certificates: [ca.der] });
    const servers = await startServers(app);
    try {
      const chain = (await app.authority.chain()).pem;
      for (const concurrency of options.concurrency) {
        const tag = `${database.kind}-c${concurrency}`;
        const warmup = await registeredDevices(app, ca, `${tag}-warm`, warmupDevices);
        const devices = await registeredDevices(app, ca, tag, options.devices);
        const loadBefore = loadavg()[0]!;
        const cpu = process.cpuUsage();
        const result = await inChild({ url: servers.httpsUrl, ca: chain, concurrency, warmup, devices });
        const serverCpu = process.cpuUsage(cpu); // includes the warm-up's few enrollments
        const missing = await unrecorded(app, tag, result.enrolled);
        const latency = (q: number) =>
          result.latenciesMs[
            Math.min(result.latenciesMs.length - 1, Math.floor(q * result.latenciesMs.length))
          ] ?? NaN;
        runs.push({
          store: database.kind,
          concurrency,
          devices: options.devices,
          enrollmentsPerSecond: result.enrolled / result.seconds,
          p50Ms: latency(0.5),
          p99Ms: latency(0.99),
          failures: result.failures + missing.count,
          firstFailure: result.firstFailure ?? missing.what,
          loadBefore,
          serverCpuMs: (serverCpu.user + serverCpu.system) / 1000 / (result.enrolled + warmupDevices),
          clientCpuMs: result.cpuMs / Math.max(1, result.enrolled),
        });
      }
    } finally {
      await servers.close();
    }
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The manufacturer's root CA, as test/support/idevid.ts makes one (valid around now). */
function manufacturerCa(): TestCertificate {
  const now = Date.now();
  return testCertificate({
    commonName: `${manufacturer} IDevID CA`,
    key: testKeyPair("p256"),
    ca: true,
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now + 365 * DAY),
  });
}

/** `n` devices, each with an IDevID of its own key, registered; and each one's CSR of a new key. */
async function registeredDevices(
  app: App,
  ca: TestCertificate,
  tag: string,
  n: number,
): Promise<EstDevice[]> {
  const now = Date.now();
  const devices: EstDevice[] = [];
  const registrations = [];
  for (let i = 0; i < n; i++) {
    const serialNumber = `EST-${tag}-${i}`;
    const key = testKeyPair("p256");
    const idevid = testCertificate({
      commonName: serialNumber,
      key,
      issuer: ca,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
    }).der;
    registrations.push({ serialNumber, manufacturer, idevid, tenant: "bench" });
    const operational = await testSigner("p256");
    const csr = await writeCsr({ subject: [{ type: "CN", value: serialNumber }] }, operational.signer);
    devices.push({
      cert: toPem("CERTIFICATE", idevid),
      key: key.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      csr: Buffer.from(csr).toString("base64"),
    });
  }
  for (let i = 0; i < registrations.length; i += 10_000) {
    await app.devices.registerMany(registrations.slice(i, i + 10_000), systemCaller);
  }
  return devices;
}

function inChild(job: EstClientJob): Promise<EstClientResult> {
  const child = fork(fileURLToPath(new URL("./est-client.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { result?: EstClientResult; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(`the EST load generator failed: ${m.error}`)),
    );
    child.once("exit", (code) => reject(new Error(`the EST load generator exited with ${code}`)));
    child.send(job);
  });
}

/**
 * Enrolled devices of this run the database does not show as such: a device not provisioned, or
 * a certificate row, certificate.issued leaf, lifecycle event or device.transitioned leaf short of
 * one per enrollment.
 */
async function unrecorded(
  app: App,
  tag: string,
  enrolled: number,
): Promise<{ count: number; what: string | undefined }> {
  const { rows } = await sql<Record<string, string>>`
    with d as (select id, state from devices where serial_number like ${`EST-${tag}-%`}),
         c as (select serial from certificates where device_id in (select id from d))
    select
      (select count(*) from d where state = 'provisioned') as "provisioned devices",
      (select count(*) from c) as "certificates",
      (select count(*) from audit_leaves where subject in (select 'certificate:' || serial from c)) as "certificate.issued leaves",
      (select count(*) from lifecycle_events where device_id in (select id from d)) as "lifecycle events",
      (select count(*) from audit_leaves where subject in (select 'device:' || id from d)
        and entry like '%"type":"device.transitioned"%') as "device.transitioned leaves"
  `.execute(app.database.db);
  const short = Object.entries(rows[0]!)
    .map(([what, n]) => ({ what, missing: enrolled + warmupDevices - Number(n) }))
    .filter((s) => s.missing !== 0);
  return {
    count: Math.max(0, ...short.map((s) => s.missing)),
    what: short.length ? short.map((s) => `${s.what}: ${s.missing} short`).join(", ") : undefined,
  };
}

export function formatEstBench(runs: readonly EstBenchRun[]): string {
  const names: Record<DatabaseKind, string> = { pglite: "PGlite", postgres: "PostgreSQL" };
  const f = (n: number, width: number, digits = 0) => n.toFixed(digits).padStart(width);
  return [
    `EST enrollment over HTTPS: ${runs[0]?.devices ?? 0} devices per run, each a new TLS connection with its IDevID as client certificate (P-256), simpleenroll, certs-only answer read`,
    "(goal: ≥ 1,500 enrollments/s on PostgreSQL at concurrency 16, each with its certificate row, lifecycle event and audit leaf)",
    "",
    "store        concurrency   enrollments/s   p50 ms   p99 ms   failures   CPU ms/enrollment: server  client   load before",
    ...runs.map(
      (r) =>
        `${names[r.store].padEnd(11)}${f(r.concurrency, 13)}${f(r.enrollmentsPerSecond, 16)}${f(r.p50Ms, 9, 1)}${f(r.p99Ms, 9, 1)}${f(r.failures, 11)}${f(r.serverCpuMs, 28, 2)}${f(r.clientCpuMs, 8, 2)}${f(r.loadBefore, 14, 2)}` +
        (r.firstFailure ? `   first failure: ${r.firstFailure}` : ""),
    ),
  ].join("\n");
}
