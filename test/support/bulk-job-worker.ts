/**
 * A process that works one bulk job on a PostgreSQL schema, as another Keyfleet node would: the
 * bulk-job test kills it mid-run (SIGKILL) and resumes the job elsewhere.
 * Usage: node --import tsx bulk-job-worker.ts URL SCHEMA JOB_ID
 */
import { auditLog } from "../../src/audit/index.js";
import { systemClock } from "../../src/domain/index.js";
import { outbox } from "../../src/events/index.js";
import { bulkJobs } from "../../src/registry/index.js";
import { openDatabase } from "../../src/store/index.js";

const [url, schema, jobId] = process.argv.slice(2);
const database = await openDatabase({ url: url!, schema: schema!, poolSize: 2 });
const jobs = bulkJobs({
  database,
  clock: systemClock,
  audit: auditLog({ database, clock: systemClock }),
  outbox: outbox(database),
  issue: () => Promise.reject(new Error("a bulk job issues no certificate")),
});
process.stdout.write("working\n");
await jobs.run(jobId!);
await database.close();
