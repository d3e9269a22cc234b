/**
 * `npm run bench`: end-to-end issuance (CSR parsed and checked → signed → committed) on PGlite and on
 * PostgreSQL, next to raw node:crypto P-256 signatures/s on the same machine in the same run.
 * The authority is set up as `keyfleet serve` sets it up: CSRs verified on one worker thread per core.
 * Options: BENCH_COUNT (certificates per database, default 20000), BENCH_CONCURRENCY (default 256),
 * BENCH_STORES (default "pglite,postgres"), TEST_DATABASE_URL (PostgreSQL, default
 * postgres://postgres@127.0.0.1:5432/test).
 */
import "reflect-metadata";
import { generateKeyPairSync, randomBytes, sign, webcrypto } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import pg from "pg";
import { createAuthority, workerCsrReader } from "../src/ca/index.js";
import { SoftwareKeyStore } from "../src/crypto/index.js";
import { systemClock } from "../src/domain/index.js";
import { databaseSealedKeyVault, openDatabase, type Database } from "../src/store/index.js";

const count = Number(process.env.BENCH_COUNT ?? 20000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 256);
const stores = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const csrWorkers = availableParallelism();

function rawSignaturesPerSecond(): number {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const data = randomBytes(400); // about a TBSCertificate
  for (let i = 0; i < 2000; i++) sign("sha256", data, privateKey);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 2000) {
    sign("sha256", data, privateKey);
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function csrs(n: number): Promise<string[]> {
  x509.cryptoProvider.set(webcrypto as Crypto);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=bench-device-${i}`,
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: `bench-${i}.devices.test` }]),
      ],
    });
    out.push(csr.toString("pem"));
  }
  return out;
}

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly rssMiB: [number, number];
  /** Share of the run the event loop was busy, and the process's CPU time (all threads) per second. */
  readonly eventLoopBusy: number;
  readonly cpuCores: number;
}

async function issuance(database: Database, requests: string[]): Promise<Result> {
  const keyStore = new SoftwareKeyStore(databaseSealedKeyVault(database.db), {
    source: "file",
    key: randomBytes(32),
  });
  const csrReader = workerCsrReader(csrWorkers);
  const authority = createAuthority({
    database,
    keyStore,
    clock: systemClock,
    publicUrl: "http://127.0.0.1:8080",
    csrReader,
  });
  await authority.init({ algorithm: "p256" });
  await authority.issue({ csr: requests[0]! }); // warm: issuing key loaded, template compiled
  const latencies = new Float64Array(count);
  let next = 0;
  const rss: number[] = [];
  const start = performance.now();
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await authority.issue({ csr: requests[i % requests.length]! });
      latencies[i] = performance.now() - t0;
      if (i === Math.floor(count / 4) || i === count - 1) rss.push(process.memoryUsage().rss / 2 ** 20);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpuUsed = process.cpuUsage(cpu);
  const eventLoopBusy = performance.eventLoopUtilization(loop).utilization;
  await csrReader.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    perSecond: count / seconds,
    p50: sorted[Math.floor(count * 0.5)]!,
    p99: sorted[Math.floor(count * 0.99)]!,
    rssMiB: [rss[0] ?? 0, rss[rss.length - 1] ?? 0],
    eventLoopBusy,
    cpuCores: (cpuUsed.user + cpuUsed.system) / 1e6 / seconds,
  };
}

async function onPGlite(requests: string[]): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), "keyfleet-bench-"));
  const database = await openDatabase({ dataDir: join(dir, "pglite") });
  try {
    return await issuance(database, requests);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function onPostgres(requests: string[]): Promise<Result> {
  const schema = `kf_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = await openDatabase({ url: postgresUrl, schema });
  try {
    return await issuance(database, requests);
  } finally {
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

const raw = rawSignaturesPerSecond();
const requests = await csrs(500);
const rows: [string, Result][] = [];
if (stores.includes("pglite")) rows.push(["PGlite", await onPGlite(requests)]);
if (stores.includes("postgres")) rows.push(["PostgreSQL", await onPostgres(requests)]);
const f = (n: number, d = 0) => n.toFixed(d).padStart(9);
console.log(
  `Issuance benchmark: ${count} certificates per store, ${concurrency} in flight, ECDSA P-256 CA and device keys`,
);
console.log(`CSRs verified on ${csrWorkers} worker threads (as \`keyfleet serve\` on this machine)`);
console.log(`raw node:crypto P-256 sign: ${raw.toFixed(0)}/s (one core)\n`);
console.log(
  "store        certs/s   % of raw   p50 ms   p99 ms   RSS MiB at 25% → 100%   event loop busy   Keyfleet CPU (cores)",
);
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(11)}${f(r.perSecond)}  ${f((100 * r.perSecond) / raw, 1)}%${f(r.p50, 1)}${f(r.p99, 1)}   ${`${r.rssMiB[0].toFixed(0)} → ${r.rssMiB[1].toFixed(0)}`.padEnd(21)}${f(100 * r.eventLoopBusy, 0)}%${f(r.cpuCores, 2).padStart(18)}`,
  );
}
