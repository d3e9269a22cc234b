/**
 * `npm run bench`: the issuance benchmark (src/cli/issuance-bench.ts, also `keyfleet bench`) on
 * PGlite and on PostgreSQL in one run. Options: BENCH_COUNT (certificates per store, default 20000),
 * BENCH_CONCURRENCY (default 256), BENCH_STORES (default "pglite,postgres"), TEST_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test).
 */
import "reflect-metadata";
import { formatBenchReport, parseStores, runIssuanceBench } from "../src/cli/issuance-bench.js";

const report = await runIssuanceBench({
  count: Number(process.env.BENCH_COUNT ?? 20000),
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 256),
  stores: parseStores(process.env.BENCH_STORES ?? "pglite,postgres"),
  postgresUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
});
console.log(formatBenchReport(report));
