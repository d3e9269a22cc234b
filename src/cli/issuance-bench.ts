/**
 * The issuance benchmark behind `keyfleet bench` and `npm run bench`: end to end (CSR parsed and
 * checked → certificate signed → row committed) on each store, next to raw node:crypto P-256
 * signatures/s measured in the same run. The authority is set up as `keyfleet serve` sets it up
 * (CSRs verified on one worker thread per core) and works in scratch space it removes afterwards:
 * a temporary PGlite directory, or a temporary schema in the PostgreSQL database.
 */
import { generateKeyPairSync, randomBytes, sign, webcrypto } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
// @peculiar/x509 needs the reflect-metadata polyfill loaded before it (FIELD-NOTES).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import pg from "pg";
import { auditLog } from "../audit/index.js";
import { createAuthority, keyCustody, workerCsrReader } from "../ca/index.js";
import { KeyStoreRouter, SoftwareKeyStore, type KeyStoreAdapter } from "../crypto/index.js";
import { KeyfleetError, systemClock } from "../domain/index.js";
import { databaseSealedKeyVault, openDatabase, type Database, type DatabaseKind } from "../store/index.js";

export interface BenchOptions {
  /** Certificates issued per store. */
  readonly count: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly stores: readonly DatabaseKind[];
  /** Where the scratch schema goes when `stores` has postgres. */
  readonly postgresUrl?: string | undefined;
  readonly csrWorkers?: number;
}

export interface StoreResult {
  readonly store: DatabaseKind;
  /** Whether each certificate's audit leaf was written (the product), or not (the baseline). */
  readonly audit: boolean;
  readonly certificatesPerSecond: number;
  /** certificatesPerSecond as a percentage of raw P-256 signatures/s. */
  readonly percentOfRawSign: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Resident set size when a quarter of the certificates were issued, and at the end. */
  readonly rssMiB: { readonly atQuarter: number; readonly atEnd: number };
  /** Share of the run the event loop was busy. */
  readonly eventLoopBusy: number;
  /** This process's CPU time (every thread) per second of the run. */
  readonly cpuCores: number;
}

export interface BenchReport {
  readonly count: number;
  readonly concurrency: number;
  readonly csrWorkers: number;
  readonly rawSignaturesPerSecond: number;
  readonly results: readonly StoreResult[];
}

const distinctCsrs = 500;

/** "pglite,postgres" → the stores, refusing anything else. */
export function parseStores(list: string): DatabaseKind[] {
  const stores = list.split(",").map((s) => s.trim());
  for (const s of stores) {
    if (s !== "pglite" && s !== "postgres") {
      throw new KeyfleetError("invalid-configuration", `unknown store "${s}": use pglite, postgres or both`);
    }
  }
  return stores as DatabaseKind[];
}

export async function runIssuanceBench(options: BenchOptions): Promise<BenchReport> {
  const { count, concurrency } = options;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new KeyfleetError("invalid-configuration", "count and concurrency must be positive integers");
  }
  if (options.stores.includes("postgres") && !options.postgresUrl) {
    throw new KeyfleetError("invalid-configuration", "benchmarking PostgreSQL needs a database URL");
  }
  const csrWorkers = options.csrWorkers ?? availableParallelism();
  const rawSignaturesPerSecond = rawSigning();
  const requests = await csrs(Math.min(count, distinctCsrs));
  const results: StoreResult[] = [];
  for (const store of options.stores) {
    // With the audit log, as the product runs, and without (leaves not written): its cost, measured.
    for (const audit of [true, false]) {
      const run = (database: Database) =>
        issuance(database, requests, { count, concurrency, csrWorkers, rawSignaturesPerSecond, audit });
      results.push(
        store === "pglite" ? await onScratchPGlite(run) : await onScratchSchema(options.postgresUrl!, run),
      );
    }
  }
  return { count, concurrency, csrWorkers, rawSignaturesPerSecond, results };
}

export function formatBenchReport(r: BenchReport): string {
  const f = (n: number, width: number, digits = 0) => n.toFixed(digits).padStart(width);
  const names: Record<DatabaseKind, string> = { pglite: "PGlite", postgres: "PostgreSQL" };
  return [
    `Issuance: ${r.count} certificates per store, ${r.concurrency} in flight, ECDSA P-256 CA and device keys`,
    `CSRs verified on ${r.csrWorkers} worker threads, as \`keyfleet serve\` does on this machine`,
    `raw node:crypto P-256 sign: ${r.rawSignaturesPerSecond.toFixed(0)}/s (one core)`,
    "",
    "store         audit   certs/s  % of raw   p50 ms   p99 ms   RSS MiB ¼ → end   event loop busy   CPU cores",
    ...r.results.map(
      (s) =>
        `${names[s.store].padEnd(11)}${(s.audit ? "   on" : "  off").padEnd(6)}${f(s.certificatesPerSecond, 10)}${f(s.percentOfRawSign, 9, 1)}%${f(s.p50Ms, 9, 1)}${f(s.p99Ms, 9, 1)}   ${`${s.rssMiB.atQuarter.toFixed(0)} → ${s.rssMiB.atEnd.toFixed(0)}`.padEnd(15)}${f(100 * s.eventLoopBusy, 17)}%${f(s.cpuCores, 12, 2)}`,
    ),
  ].join("\n");
}

export function rawSigning(): number {
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

/** Device CSRs, each from its own fresh key, as a fleet would send them. */
export async function csrs(n: number): Promise<string[]> {
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

export interface IssuanceRun {
  readonly count: number;
  readonly concurrency: number;
  readonly csrWorkers: number;
  readonly rawSignaturesPerSecond: number;
  readonly audit: boolean;
  /** A PKCS#11 token to keep the CA keys in (the HSM bench); the software store otherwise. */
  readonly token?: KeyStoreAdapter | undefined;
}

/** One issuance run on `database`: a new authority, warmed, then `count` certificates at `concurrency`. */
export async function issuance(
  database: Database,
  requests: readonly string[],
  run: IssuanceRun,
): Promise<StoreResult> {
  const software = new SoftwareKeyStore(databaseSealedKeyVault(database.db), {
    source: "file",
    key: randomBytes(32),
  });
  const keyStore = new KeyStoreRouter(software, run.token ? [run.token] : []);
  const csrReader = workerCsrReader(run.csrWorkers);
  const log = auditLog({ database, clock: systemClock });
  try {
    const audit = run.audit ? log : { ...log, append: async () => [] };
    const authority = createAuthority({
      database,
      keyStore,
      custody: keyCustody({ database, keyStore, clock: systemClock, audit }),
      clock: systemClock,
      defaultPublicUrl: "http://127.0.0.1:8080",
      csrReader,
      audit,
    });
    await authority.init({ algorithm: "p256", keyStore: run.token ? run.token.kind : "software" });
    await authority.issue({ csr: requests[0]! }); // warm: workers started, issuing key loaded, template compiled
    const latencies = new Float64Array(run.count);
    const rss: number[] = [];
    let next = 0;
    const start = performance.now();
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    const client = async () => {
      while (next < run.count) {
        const i = next++;
        const t0 = performance.now();
        await authority.issue({ csr: requests[i % requests.length]! });
        latencies[i] = performance.now() - t0;
        if (i === Math.floor(run.count / 4) || i === run.count - 1)
          rss.push(process.memoryUsage().rss / 2 ** 20);
      }
    };
    await Promise.all(Array.from({ length: Math.min(run.concurrency, run.count) }, client));
    const seconds = (performance.now() - start) / 1000;
    const cpuUsed = process.cpuUsage(cpu);
    const eventLoopBusy = performance.eventLoopUtilization(loop).utilization;
    latencies.sort();
    const perSecond = run.count / seconds;
    return {
      store: database.kind,
      audit: run.audit,
      certificatesPerSecond: perSecond,
      percentOfRawSign: (100 * perSecond) / run.rawSignaturesPerSecond,
      p50Ms: latencies[Math.floor(run.count * 0.5)]!,
      p99Ms: latencies[Math.floor(run.count * 0.99)]!,
      rssMiB: { atQuarter: rss[0] ?? 0, atEnd: rss[rss.length - 1] ?? 0 },
      eventLoopBusy,
      cpuCores: (cpuUsed.user + cpuUsed.system) / 1e6 / seconds,
    };
  } finally {
    await csrReader.close();
  }
}

/** `work` on a PGlite database in a temporary directory, removed afterwards. */
export async function onScratchPGlite<T>(work: (database: Database) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "keyfleet-bench-"));
  try {
    const database = await openDatabase({ dataDir: join(dir, "pglite") });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `work` on a temporary schema of the PostgreSQL database at `url`, dropped afterwards. */
export async function onScratchSchema<T>(url: string, work: (database: Database) => Promise<T>): Promise<T> {
  const schema = `keyfleet_bench_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
    try {
      const database = await openDatabase({ url, schema });
      try {
        return await work(database);
      } finally {
        await database.close();
      }
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
    }
  } finally {
    await admin.end();
  }
}
