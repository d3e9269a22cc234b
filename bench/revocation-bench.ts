/**
 * Revocation at scale on PostgreSQL (issue 17's goals: a 1M-entry CRL in < 10 s with RSS growing
 * < 100 MiB; revoke latency flat, within 20 %, from 0 to 1M revoked): the latency of revoking a
 * real certificate (p50, p99 of BENCH_REVOKE_SAMPLES, default 200) with none revoked, then the full
 * CRL's generation time and the process's peak RSS growth at each size of BENCH_CRL_SIZES (default
 * "100000,1000000" revoked certificates), then revoke latency again at the largest.
 *
 * The revoked population is seeded in SQL, in bulk (certificates revoked for keyCompromise with a
 * revocation record each), so the bench measures the CRL and the revocation, not a million
 * issuances; the seeded rows carry a placeholder DER, which neither reads. In a scratch schema.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import pino from "pino";
import { openApp, type App } from "../src/app.js";
import { onScratchSchema } from "../src/cli/issuance-bench.js";
import { loadConfig } from "../src/config.js";
import { percentile } from "../src/domain/percentile.js";
import { ensureInitialized } from "../src/first-run.js";
import { createLogger } from "../src/logger.js";
import { writeCsr } from "../src/pki/index.js";
import { testSigner } from "../src/pki/test-signer.js";
import { systemCaller } from "../src/policy/index.js";

export interface RevocationBenchResult {
  readonly revokeAtZero: { readonly p50Ms: number; readonly p99Ms: number };
  readonly revokeAtLargest: { readonly revoked: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly crls: readonly {
    readonly entries: number;
    readonly seconds: number;
    readonly bytes: number;
    readonly rssGrowthMiB: number;
  }[];
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export async function runRevocationBench(options: {
  postgresUrl: string;
  sizes: readonly number[];
  samples: number;
}): Promise<RevocationBenchResult> {
  return onScratchSchema(options.postgresUrl, async (database) => {
    const dataDir = await mkdtemp(join(tmpdir(), "keyfleet-revocation-bench-"));
    const config = loadConfig(
      {
        dataDir,
        passphrase: "revocation bench passphrase",
        logLevel: "info",
        publicUrl: "http://127.0.0.1:8080",
      },
      {},
    );
    const logger = createLogger("info", pino.destination({ dest: join(dataDir, "server.log"), sync: false }));
    const app = await openApp(config, logger, { database });
    try {
      await ensureInitialized(app, { algorithm: "p256" });
      const issuing = (await app.authority.cas()).find((c) => c.kind === "intermediate")!.id;
      const revokeAtZero = await revokeLatency(app, options.samples);
      const crls = [];
      let seeded = 0;
      for (const size of [...options.sizes].sort((a, b) => a - b)) {
        await seedRevoked(app, issuing, seeded, size - seeded);
        seeded = size;
        crls.push(await crlGeneration(app, issuing));
      }
      const atLargest = await revokeLatency(app, options.samples);
      return { revokeAtZero, revokeAtLargest: { revoked: seeded, ...atLargest }, crls };
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

/** Issues `samples` certificates, then times revoking each (one transaction, its record, leaf and event). */
async function revokeLatency(app: App, samples: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const serials: string[] = [];
  for (let i = 0; i < samples; i++) {
    const { signer } = await testSigner("p256");
    const csr = await writeCsr({ subject: [{ type: "CN", value: `revoke-bench-${i}` }] }, signer);
    serials.push((await app.devices.issue({ csr, profile: "client" }, systemCaller)).serial);
  }
  const times: number[] = [];
  for (const serial of serials) {
    const t0 = performance.now();
    await app.devices.changeCertificateStatus(
      serial,
      { action: "revoke", reason: "superseded" },
      systemCaller,
    );
    times.push(performance.now() - t0);
  }
  return { p50Ms: round(percentile(times, 0.5)), p99Ms: round(percentile(times, 0.99)) };
}

/** `count` more certificates of `issuer`, revoked for keyCompromise, each with its revocation record. */
async function seedRevoked(app: App, issuer: string, from: number, count: number): Promise<void> {
  const db = app.database.db;
  const chunk = 100_000;
  for (let start = from; start < from + count; start += chunk) {
    const end = Math.min(from + count, start + chunk) - 1;
    await sql`
      insert into certificates (issuer_id, serial, der, fingerprint, subject, profile, key_algorithm,
        public_key_sha256, not_before, not_after, status, revoked_at, revocation_reason)
      select ${issuer}, '7f' || lpad(to_hex(n), 30, '0'), '\\x00'::bytea, sha256(convert_to('bench' || n, 'UTF8')),
        'CN=bench', 'client', 'p256', sha256(convert_to('key' || n, 'UTF8')),
        now() - interval '1 day', now() + interval '365 days', 'revoked', now() - interval '1 hour', 'keyCompromise'
      from generate_series(${start}::bigint, ${end}::bigint) as n`.execute(db);
    await sql`
      insert into status_changes (issuer_id, serial, status, reason, revoked_at, actor)
      select ${issuer}, '7f' || lpad(to_hex(n), 30, '0'), 'revoked', 'keyCompromise', now() - interval '1 hour', 'system'
      from generate_series(${start}::bigint, ${end}::bigint) as n`.execute(db);
  }
  await sql`analyze certificates`.execute(db);
  await sql`analyze status_changes`.execute(db);
}

/** One full CRL of `issuer` now: how long, how big, and how far the process's RSS rose meanwhile. */
async function crlGeneration(app: App, issuer: string) {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  const [full] = await app.crls.publishNow("system", issuer);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    entries: full!.entries,
    seconds: Math.round(seconds * 100) / 100,
    bytes: full!.der.length,
    rssGrowthMiB: mib(peak - before),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function formatRevocationBench(r: RevocationBenchResult): string {
  const flat = r.revokeAtLargest.p50Ms / r.revokeAtZero.p50Ms;
  return [
    "Revocation on PostgreSQL (goals: full CRL of 1M in < 10 s, RSS growth < 100 MiB; revoke latency within 20 %)",
    "  full CRL entries   seconds   MiB     RSS growth MiB",
    ...r.crls.map(
      (c) =>
        `  ${String(c.entries).padStart(16)} ${String(c.seconds).padStart(9)} ${String(mib(c.bytes)).padStart(7)} ${String(c.rssGrowthMiB).padStart(16)}`,
    ),
    `  revoke with 0 revoked:          p50 ${r.revokeAtZero.p50Ms} ms, p99 ${r.revokeAtZero.p99Ms} ms`,
    `  revoke with ${r.revokeAtLargest.revoked} revoked:    p50 ${r.revokeAtLargest.p50Ms} ms, p99 ${r.revokeAtLargest.p99Ms} ms (p50 ratio ${Math.round(flat * 100) / 100})`,
  ].join("\n");
}
