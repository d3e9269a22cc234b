/**
 * Bulk jobs: a lifecycle command for every device a filter matches. A dry run changes nothing, a
 * job past its cap is refused, refusals are per device, and a job killed mid-run (SIGKILL, on
 * PostgreSQL, where another node resumes it) ends with each device changed exactly once.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, inject, test } from "vitest";
import { systemClock } from "../src/domain/index.js";
import { operatorCaller } from "../src/policy/index.js";
import { bulkJobs, registryDeps, type BulkJob, type BulkJobs, type Registry } from "../src/registry/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";
import { lifecycleCounts, testRegistry } from "./support/registry.js";

const admin = operatorCaller("cli:test");

function jobsOn(t: TestDatabase): BulkJobs {
  const database = t.database;
  return bulkJobs(
    registryDeps({
      database,
      clock: systemClock,
      issue: () => Promise.reject(new Error("no issuance here")),
    }),
  );
}

/** `n` devices in tenant `tenant`, put straight into `active` (activation is the enrollment tests' subject). */
async function activeDevices(
  t: TestDatabase,
  registry: Registry,
  n: number,
  tenant: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, n - i) }, (_, k) => ({
      serialNumber: `${tenant}-${i + k}`,
      tenant,
    }));
    ids.push(...(await registry.registerMany(batch, admin)).map((d) => d.id));
  }
  await t.database.db.updateTable("devices").set({ state: "active" }).where("tenant", "=", tenant).execute();
  return ids;
}

/** Per device, how many times the command was recorded in its history. */
async function timesApplied(t: TestDatabase, command: string): Promise<Map<string, number>> {
  const rows = await t.database.db
    .selectFrom("lifecycle_events")
    .select(["device_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("command", "=", command)
    .groupBy("device_id")
    .execute();
  return new Map(rows.map((r) => [r.device_id, Number(r.n)]));
}

forEachDatabase("bulk jobs", (kind) => {
  let t: TestDatabase;
  let registry: Registry;
  let jobs: BulkJobs;
  beforeEach(async () => {
    t = await testDatabase(kind);
    registry = testRegistry(t.database);
    jobs = jobsOn(t);
  });
  afterEach(() => t.dispose());

  test("a dry run counts and samples, and changes nothing", async () => {
    await activeDevices(t, registry, 30, "acme");
    const before = await lifecycleCounts(t.database);
    const dry = await jobs.start("suspend", { tenant: "acme" }, admin, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, count: 30 });
    expect("sample" in dry && dry.sample).toHaveLength(10);
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("a job past its cap, or matching nothing, is refused and stores nothing", async () => {
    await activeDevices(t, registry, 30, "acme");
    await expect(jobs.start("suspend", { tenant: "acme" }, admin, { cap: 29 })).rejects.toMatchObject({
      code: "malformed-request",
      message: expect.stringMatching(/more than 29 devices/),
    });
    await expect(jobs.start("suspend", { tenant: "nobody" }, admin)).rejects.toMatchObject({
      code: "malformed-request",
    });
    expect((await jobs.list({}, admin)).items).toEqual([]);
  });

  test("applies the command to every matching device; those whose state refuses it are recorded as refused", async () => {
    const ids = await activeDevices(t, registry, 450, "acme");
    await registry.apply(ids[7]!, { kind: "suspend" }, admin); // already suspended: suspend is refused for it
    const job = (await jobs.start("suspend", { tenant: "acme" }, admin, { reason: "recall" })) as BulkJob;
    const done = await jobs.run(job.id);
    expect(done).toMatchObject({ state: "done", total: 450, applied: 449, refused: 1 });
    const shown = await jobs.get(job.id, admin);
    expect(shown.refusedItems).toEqual([
      { deviceId: ids[7], code: "invalid-transition", message: expect.stringMatching(/suspended/) },
    ]);
    const applied = await timesApplied(t, "suspend");
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
    expect(applied.size).toBe(450);
    // Running it again does nothing.
    const before = await lifecycleCounts(t.database);
    await jobs.run(job.id);
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("a job resumed after stopping part-way goes on where it stopped and applies nothing twice", async () => {
    await activeDevices(t, registry, 500, "acme");
    const job = (await jobs.start("retire", { tenant: "acme" }, admin)) as BulkJob;
    expect(await jobs.run(job.id, 1)).toMatchObject({ state: "running", applied: 200 });
    expect(await jobs.run(job.id)).toMatchObject({ state: "done", applied: 500, refused: 0 });
    const applied = await timesApplied(t, "retire");
    expect(applied.size).toBe(500);
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
  });
});

describe("bulk jobs across a crash [postgres]", () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await testDatabase("postgres");
  });
  afterEach(() => t.dispose());

  test("a bulk suspend of 10,000 devices killed mid-run (SIGKILL) and resumed suspends each device exactly once", async () => {
    const registry = testRegistry(t.database);
    const jobs = jobsOn(t);
    await activeDevices(t, registry, 10_000, "fleet");
    const job = (await jobs.start("suspend", { tenant: "fleet" }, admin)) as BulkJob;
    const schema = (
      await t.database.db
        .selectNoFrom((eb) => eb.fn<string>("current_schema", []).as("s"))
        .executeTakeFirstOrThrow()
    ).s;
    const worker = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./support/bulk-job-worker.ts", import.meta.url)),
        inject("postgresUrl"),
        schema,
        job.id,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      worker.on("exit", (_code, signal) => resolve(signal)),
    );
    // Kill it once it has done some, well before it could finish.
    for (;;) {
      const progress = (await jobs.get(job.id, admin)).applied;
      if (progress >= 500) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    worker.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const midway = await jobs.get(job.id, admin);
    expect(midway.state).toBe("running");
    expect(midway.applied).toBeLessThan(10_000);

    expect(await jobs.run(job.id)).toMatchObject({
      state: "done",
      total: 10_000,
      applied: 10_000,
      refused: 0,
    });
    const applied = await timesApplied(t, "suspend");
    expect(applied.size).toBe(10_000);
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
    const states = await t.database.db
      .selectFrom("devices")
      .select(["state", (eb) => eb.fn.countAll<string>().as("n")])
      .where("tenant", "=", "fleet")
      .groupBy("state")
      .execute();
    expect(states.map((s) => [s.state, Number(s.n)])).toEqual([["suspended", 10_000]]);
  });
});
