/**
 * `npm run bench`: the issuance benchmark (src/cli/issuance-bench.ts, also `keyfleet bench`) on
 * PGlite and on PostgreSQL in one run, then the CLI's response times (bench/cli-timing.ts) of the
 * built command. Options: BENCH_COUNT (certificates per store, default 20000), BENCH_CONCURRENCY
 * (default 256), BENCH_STORES (default "pglite,postgres"), BENCH_CLI_RUNS (default 10; 0 skips),
 * BENCH_CLI (the bin to time, default bin/keyfleet.js), BENCH_AUDIT_LEAVES (the audit log bench's
 * size, default 1000000; 0 skips), BENCH_EST_DEVICES (devices enrolled over EST per store and
 * concurrency, default 4000; 0 skips), BENCH_EST_STORES (default "pglite,postgres"),
 * BENCH_EST_CONCURRENCY (default "1,16,64"), BENCH_REGISTRY_DEVICES (the registry bench's size, default
 * 1000000; 0 skips), BENCH_CRL_SIZES (revoked certificates the CRL bench measures a full CRL at,
 * default "100000,1000000"; "0" skips), BENCH_REVOKE_SAMPLES (revocations timed, default 200),
 * BENCH_OCSP_REQUESTS (cached OCSP requests per responder and round, default 50000; 0 skips),
 * BENCH_OCSP_CERTIFICATES (default 1000), BENCH_OCSP_CONCURRENCY (default 16), BENCH_OCSP_ROUNDS
 * (rounds of do-nothing server, Keyfleet and openssl back to back, default 3), BENCH_OCSP_CLIENTS
 * (load generator processes, default 1), BENCH_HSM_COUNT (certificates per issuance run with the
 * CA key in SoftHSM2 and in the software store, default 5000; 0 skips the HSM bench),
 * BENCH_HSM_CONCURRENCY (default 256), BENCH_HSM_STORES (default "pglite,postgres"),
 * BENCH_HSM_SECONDS (per signing measurement, default 3), BENCH_HSM_SIGNERS (signatures in flight,
 * default 16), TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { fileURLToPath } from "node:url";
import { formatBenchReport, parseStores, runIssuanceBench } from "../src/cli/issuance-bench.js";
import { formatAuditBench, runAuditBench } from "./audit-bench.js";
import { formatEstBench, runEstBench } from "./est-bench.js";
import { formatCliTiming, runCliTiming } from "./cli-timing.js";
import { formatRegistryBench, runRegistryBench } from "./registry-bench.js";
import { formatRevocationBench, runRevocationBench } from "./revocation-bench.js";
import { formatOcspBench, runOcspBench } from "./ocsp-bench.js";
import { formatHsmBench, runHsmBench } from "./hsm-bench.js";

const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const count = Number(process.env.BENCH_COUNT ?? 20000);
if (count > 0) {
  const report = await runIssuanceBench({
    count,
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 256),
    stores: parseStores(process.env.BENCH_STORES ?? "pglite,postgres"),
    postgresUrl,
  });
  console.log(formatBenchReport(report));
}
const estDevices = Number(process.env.BENCH_EST_DEVICES ?? 4000);
if (estDevices > 0) {
  const runs = await runEstBench({
    devices: estDevices,
    stores: parseStores(process.env.BENCH_EST_STORES ?? "pglite,postgres"),
    concurrency: (process.env.BENCH_EST_CONCURRENCY ?? "1,16,64").split(",").map(Number),
    postgresUrl,
  });
  console.log(formatEstBench(runs));
}
const leaves = Number(process.env.BENCH_AUDIT_LEAVES ?? 1_000_000);
if (leaves > 0) {
  console.log(
    formatAuditBench(
      await runAuditBench({
        postgresUrl,
        leaves,
        batch: Number(process.env.BENCH_AUDIT_BATCH ?? 1000),
        proofs: Number(process.env.BENCH_AUDIT_PROOFS ?? 1000),
      }),
    ),
  );
}
const devices = Number(process.env.BENCH_REGISTRY_DEVICES ?? 1_000_000);
if (devices > 0) {
  console.log(
    formatRegistryBench(
      await runRegistryBench({
        postgresUrl,
        devices,
        batch: Number(process.env.BENCH_REGISTRY_BATCH ?? 10_000),
        queries: Number(process.env.BENCH_REGISTRY_QUERIES ?? 500),
        transitions: Number(process.env.BENCH_REGISTRY_TRANSITIONS ?? 2000),
      }),
    ),
  );
}
const crlSizes = (process.env.BENCH_CRL_SIZES ?? "100000,1000000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
if (crlSizes.length > 0) {
  console.log(
    formatRevocationBench(
      await runRevocationBench({
        postgresUrl,
        sizes: crlSizes,
        samples: Number(process.env.BENCH_REVOKE_SAMPLES ?? 200),
      }),
    ),
  );
}
const ocspRequests = Number(process.env.BENCH_OCSP_REQUESTS ?? 50_000);
if (ocspRequests > 0) {
  console.log(
    formatOcspBench(
      await runOcspBench({
        requests: ocspRequests,
        certificates: Number(process.env.BENCH_OCSP_CERTIFICATES ?? 1000),
        concurrency: Number(process.env.BENCH_OCSP_CONCURRENCY ?? 16),
        rounds: Number(process.env.BENCH_OCSP_ROUNDS ?? 3),
        clientProcesses: Number(process.env.BENCH_OCSP_CLIENTS ?? 1),
      }),
    ),
  );
}
const hsmCount = Number(process.env.BENCH_HSM_COUNT ?? 5000);
if (hsmCount > 0) {
  const options = {
    count: hsmCount,
    issuanceConcurrency: Number(process.env.BENCH_HSM_CONCURRENCY ?? 256),
    stores: parseStores(process.env.BENCH_HSM_STORES ?? "pglite,postgres"),
    seconds: Number(process.env.BENCH_HSM_SECONDS ?? 3),
    concurrency: Number(process.env.BENCH_HSM_SIGNERS ?? 16),
    postgresUrl,
  };
  console.log(formatHsmBench(await runHsmBench(options), options));
}
const runs = Number(process.env.BENCH_CLI_RUNS ?? 10);
if (runs > 0) {
  const bin = process.env.BENCH_CLI ?? fileURLToPath(new URL("../bin/keyfleet.js", import.meta.url));
  console.log(formatCliTiming(await runCliTiming({ bin, postgresUrl, runs })));
}
