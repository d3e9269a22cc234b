/**
 * A process that works one bulk job on a PostgreSQL schema, as another Keyfleet node would: the
 * bulk-job test kills it mid-run (SIGKILL) and resumes the job elsewhere.
 * Usage: node --import tsx bulk-job-worker.ts URL SCHEMA JOB_ID
 */
import { systemClock } from "../../src/domain/index.js";
import { bulkJobs, registryDeps } from "../../src/registry/index.js";
import { openDatabase } from "../../src/store/index.js";

const [url, schema, jobId] = process.argv.slice(2);
const database = await openDatabase({ url: url!, schema: schema!, poolSize: 2 });
const jobs = bulkJobs(
  registryDeps({
    database,
    clock: systemClock,
    issue: () => Promise.reject(new Error("a bulk job issues no certificate")),
  }),
);
process.stdout.write("working\n");
await jobs.run(jobId!);
await database.close();
