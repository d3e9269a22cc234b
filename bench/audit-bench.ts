/**
 * The audit log's speed on PostgreSQL (issue 14's goals: an inclusion proof < 5 ms at 10M leaves,
 * memory flat in the leaf count): appends/s in batches of BENCH_AUDIT_BATCH (default 1000, one
 * transaction each, as issuance's group commit appends), then the latency of inclusion proofs at
 * random indexes in the full tree (p50, p99 of BENCH_AUDIT_PROOFS, default 1000), with the process's
 * RSS before and after. BENCH_AUDIT_LEAVES sets the size (default 1,000,000); in a scratch schema.
 */
import { randomBytes, randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { auditLog, type AuditEvent } from "../src/audit/index.js";
import { systemClock } from "../src/domain/index.js";
import { openDatabase } from "../src/store/index.js";

export interface AuditBenchResult {
  readonly leaves: number;
  readonly appendsPerSecond: number;
  readonly proofP50Ms: number;
  readonly proofP99Ms: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
}

const mib = () => Math.round(process.memoryUsage().rss / 2 ** 20);

function event(n: number): AuditEvent {
  return {
    type: "certificate.issued",
    actor: "token:bench",
    subject: `certificate:${n.toString(16).padStart(16, "0")}`,
    details: { serial: n.toString(16), profile: "device", sha256: "0".repeat(64) },
  };
}

export async function runAuditBench(options: {
  postgresUrl: string;
  leaves: number;
  batch: number;
  proofs: number;
}): Promise<AuditBenchResult> {
  const schema = `kf_bench_audit_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = await openDatabase({ url: options.postgresUrl, schema, poolSize: 4 });
  try {
    const log = auditLog({ database, clock: systemClock });
    const rssBefore = mib();
    const start = performance.now();
    for (let n = 0; n < options.leaves; n += options.batch) {
      const events = Array.from({ length: Math.min(options.batch, options.leaves - n) }, (_, i) =>
        event(n + i),
      );
      await database.transaction((tx) => log.append(tx, events));
    }
    const appendsPerSecond = Math.round(options.leaves / ((performance.now() - start) / 1000));
    const size = await log.size();
    const times: number[] = [];
    for (let i = 0; i < options.proofs; i++) {
      const t0 = performance.now();
      await log.inclusionProof(randomInt(size), size);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 100) / 100;
    return {
      leaves: size,
      appendsPerSecond,
      proofP50Ms: at(0.5),
      proofP99Ms: at(0.99),
      rssBeforeMiB: rssBefore,
      rssAfterMiB: mib(),
    };
  } finally {
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

export function formatAuditBench(r: AuditBenchResult): string {
  return [
    `audit log on PostgreSQL, ${r.leaves.toLocaleString("en")} leaves`,
    `  appends          ${r.appendsPerSecond.toLocaleString("en")}/s (batches in one transaction each)`,
    `  inclusion proof  p50 ${r.proofP50Ms} ms, p99 ${r.proofP99Ms} ms   (goal: < 5 ms at 10M leaves)`,
    `  RSS              ${r.rssBeforeMiB} MiB before the appends, ${r.rssAfterMiB} MiB after`,
  ].join("\n");
}
