/**
 * The registry's speed on PostgreSQL (issue 15's goals: ≥ 20,000 registrations/s in batches; a
 * list query's p99 < 20 ms at 1,000,000 devices): registrations/s through the registry's batch
 * registration (BENCH_REGISTRY_BATCH devices per transaction, default 10,000, each with its audit
 * leaf and outbox event) up to BENCH_REGISTRY_DEVICES (default 1,000,000); then the latency of
 * list pages for three filters (tenant, group, label), from the start and after a random cursor;
 * then lifecycle transitions/s (retire, each with its history row, audit leaf and outbox event,
 * 16 at a time). In a scratch schema.
 */
import { randomBytes, randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { systemClock } from "../src/domain/index.js";
import { operatorCaller } from "../src/policy/index.js";
import { createRegistry, registryDeps, type DeviceRegistration } from "../src/registry/index.js";
import { openDatabase } from "../src/store/index.js";

export interface RegistryBenchResult {
  readonly devices: number;
  readonly registrationsPerSecond: number;
  readonly lists: readonly { filter: string; p50Ms: number; p99Ms: number }[];
  readonly transitionsPerSecond: number;
}

const caller = operatorCaller("cli:bench");

function device(n: number): DeviceRegistration {
  return {
    serialNumber: `BENCH-${n.toString(36).padStart(8, "0")}`,
    tenant: `t-${n % 16}`,
    region: `r-${n % 4}`,
    model: `m-${n % 8}`,
    groups: [`g-${n % 50}`],
    labels: { site: `s-${n % 100}` },
  };
}

function percentile(times: number[], q: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
}

export async function runRegistryBench(options: {
  postgresUrl: string;
  devices: number;
  batch: number;
  queries: number;
  transitions: number;
}): Promise<RegistryBenchResult> {
  const schema = `kf_bench_registry_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = await openDatabase({ url: options.postgresUrl, schema, poolSize: 17 });
  try {
    const registry = createRegistry(
      registryDeps({
        database,
        clock: systemClock,
        issue: () => Promise.reject(new Error("the registry bench issues no certificate")),
      }),
    );
    const ids: string[] = [];
    const start = performance.now();
    for (let n = 0; n < options.devices; n += options.batch) {
      const batch = Array.from({ length: Math.min(options.batch, options.devices - n) }, (_, i) =>
        device(n + i),
      );
      const made = await registry.registerMany(batch, caller);
      for (let i = 0; i < made.length; i += 97) ids.push(made[i]!.id); // a sample, for cursors and transitions
    }
    const registrationsPerSecond = Math.round(options.devices / ((performance.now() - start) / 1000));
    await admin.query(`analyze ${schema}.devices`);

    const filters = [
      { name: "tenant", query: () => ({ tenant: `t-${randomInt(16)}` }) },
      { name: "group", query: () => ({ group: `g-${randomInt(50)}` }) },
      { name: "label", query: () => ({ label: { key: "site", value: `s-${randomInt(100)}` } }) },
    ];
    const lists = [];
    for (const f of filters) {
      const times: number[] = [];
      for (let i = 0; i < options.queries; i++) {
        const after = i % 2 === 0 ? undefined : ids[randomInt(ids.length)];
        const t0 = performance.now();
        await registry.list({ ...f.query(), after, limit: 50 }, caller);
        times.push(performance.now() - t0);
      }
      lists.push({ filter: f.name, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99) });
    }

    const targets = ids.slice(0, options.transitions);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < targets.length) await registry.apply(targets[next++]!, { kind: "retire" }, caller);
      }),
    );
    const transitionsPerSecond = Math.round(targets.length / ((performance.now() - t0) / 1000));
    return { devices: options.devices, registrationsPerSecond, lists, transitionsPerSecond };
  } finally {
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

export function formatRegistryBench(r: RegistryBenchResult): string {
  return [
    `device registry on PostgreSQL, ${r.devices.toLocaleString("en")} devices`,
    `  registrations    ${r.registrationsPerSecond.toLocaleString("en")}/s in batches, each with its audit leaf and outbox event (goal: ≥ 20,000/s)`,
    ...r.lists.map(
      (l) =>
        `  list by ${l.filter.padEnd(8)} p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, 50 a page   (goal: p99 < 20 ms)`,
    ),
    `  transitions      ${r.transitionsPerSecond.toLocaleString("en")}/s (retire: history row, audit leaf, outbox event; 16 at a time)`,
  ].join("\n");
}
