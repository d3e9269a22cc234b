/**
 * Fleet-wide rotation as a bulk job (issue 17, atomic rotation): `rotate` marks each active device
 * the filter matches as due, with the request's actor, reason and time, an audit leaf and an outbox
 * event in the page's transaction, and no lifecycle change; its rate spreads the due times; devices
 * not active are refused with their reason; a job stopped after a page (or SIGKILLed, on
 * PostgreSQL) and resumed marks each device once and keeps its rate. The server's due time for a
 * device is the policy's cadence, or the request's time when sooner.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, inject, test } from "vitest";
import { fixedClock, systemClock, type Clock } from "../src/domain/index.js";
import { operatorCaller, type Caller, type PolicyService } from "../src/policy/index.js";
import {
  bulkJobs,
  createRegistry,
  registryDeps,
  type BulkJob,
  type BulkJobs,
  type Registry,
} from "../src/registry/index.js";
import type { Database } from "../src/store/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";

const admin = operatorCaller("cli:test");
const t0 = "2026-06-01T00:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(t0) + ms).toISOString();

function registryOn(database: Database, clock: Clock) {
  const deps = registryDeps({ database, clock, issue: () => Promise.reject(new Error("no issuance here")) });
  return { registry: createRegistry(deps), jobs: bulkJobs(deps), policies: deps.policies };
}

/** `n` devices of `tenant`, put straight into `active` (activation is the enrollment tests' subject); ids in order. */
async function activeDevices(t: TestDatabase, registry: Registry, n: number, tenant: string) {
  const batch = Array.from({ length: n }, (_, k) => ({ serialNumber: `${tenant}-${k}`, tenant }));
  const ids = (await registry.registerMany(batch, admin)).map((d) => d.id).sort();
  await t.database.db.updateTable("devices").set({ state: "active" }).where("tenant", "=", tenant).execute();
  return ids;
}

async function requests(t: TestDatabase) {
  return t.database.db.selectFrom("rotation_requests").selectAll().orderBy("device_id").execute();
}

/** Per device, the audit leaves and outbox events of its rotation requests. */
async function recorded(t: TestDatabase) {
  const leaves = (await t.database.db.selectFrom("audit_leaves").select("entry").execute())
    .map((r) => JSON.parse(r.entry) as { type: string; actor: string; details: Record<string, unknown> })
    .filter((e) => e.type === "device.rotation-requested");
  const events = await t.database.db
    .selectFrom("outbox")
    .selectAll()
    .where("type", "=", "device.rotation-requested")
    .execute();
  return { leaves, events };
}

/** Every device's state and version, and the lifecycle history's size: what a rotation request leaves alone. */
async function lifecycle(t: TestDatabase) {
  const devices = await t.database.db
    .selectFrom("devices")
    .select(["id", "state", "version"])
    .orderBy("id")
    .execute();
  const history = await t.database.db
    .selectFrom("lifecycle_events")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return { devices, history: Number(history.n) };
}

const countEach = (ids: readonly unknown[]) => {
  const m = new Map<unknown, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

forEachDatabase("bulk rotate jobs", (kind) => {
  let t: TestDatabase;
  let clock: ReturnType<typeof fixedClock>;
  let registry: Registry;
  let jobs: BulkJobs;
  let policies: PolicyService;
  beforeEach(async () => {
    t = await testDatabase(kind);
    clock = fixedClock(t0);
    ({ registry, jobs, policies } = registryOn(t.database, clock));
  });
  afterEach(() => t.dispose());

  test("a dry run counts the devices the filter matches and changes nothing", async () => {
    await activeDevices(t, registry, 30, "acme");
    await activeDevices(t, registry, 5, "other");
    const before = await lifecycle(t);
    const dry = await jobs.start("rotate", { tenant: "acme" }, admin, {
      dryRun: true,
      rate: { devices: 10, per: "second" },
    });
    expect(dry).toMatchObject({ dryRun: true, count: 30 });
    expect(await requests(t)).toEqual([]);
    expect(await lifecycle(t)).toEqual(before);
    expect((await jobs.list({}, admin)).items).toEqual([]);
  });

  test("marks each active device due, spread by the rate, refuses the others with their reason, changes no state", async () => {
    const ids = await activeDevices(t, registry, 450, "acme");
    const others = await activeDevices(t, registry, 3, "other");
    await registry.apply(ids[7]!, { kind: "suspend" }, admin);
    await registry.apply(ids[300]!, { kind: "retire" }, admin);
    const before = await lifecycle(t);
    const job = (await jobs.start("rotate", { tenant: "acme" }, admin, {
      reason: "CA migration",
      rate: { devices: 10, per: "second" },
    })) as BulkJob;
    expect(job).toMatchObject({ command: "rotate", rate: { devices: 10, per: "second" }, total: 450 });
    expect(await jobs.run(job.id)).toMatchObject({ state: "done", applied: 448, refused: 2 });

    const shown = await jobs.get(job.id, admin);
    expect(shown.refusedItems).toEqual([
      { deviceId: ids[7], code: "invalid-transition", message: expect.stringMatching(/it is suspended/) },
      {
        deviceId: ids[300],
        code: "invalid-transition",
        message: expect.stringMatching(/it is decommissioning/),
      },
    ]);
    const marked = ids.filter((_, i) => i !== 7 && i !== 300);
    const rows = await requests(t);
    expect(rows.map((r) => r.device_id)).toEqual(marked);
    expect(rows.every((r) => !others.includes(r.device_id))).toBe(true);
    // Due 100 ms apart in device order, from the time the job marked the first.
    expect(rows.map((r) => r.renew_at.toISOString())).toEqual(marked.map((_, k) => at(k * 100)));
    expect(rows[0]).toMatchObject({
      job_id: job.id,
      requested_by: "cli:test",
      reason: "CA migration",
      requested_at: new Date(t0),
    });
    // A request, not a transition: every device's state and version as before, no history row.
    expect(await lifecycle(t)).toEqual(before);

    const { leaves, events } = await recorded(t);
    expect(leaves).toHaveLength(448);
    expect(events).toHaveLength(448);
    expect(leaves.find((l) => l.details.device === marked[1])).toMatchObject({
      actor: "cli:test",
      details: { job: job.id, reason: "CA migration", renewAt: at(100) },
    });
    expect(new Set(events.map((e) => e.subject))).toEqual(new Set(marked.map((id) => `device:${id}`)));

    // The server's due time for a marked device is the request's; an unmarked one keeps its cadence.
    const validity = { notBefore: new Date(t0), notAfter: new Date(Date.parse(t0) + 90 * 86_400_000) };
    expect(await registry.rotationSchedule(marked[2]!, validity)).toEqual({
      renewAt: new Date(at(200)),
      requested: true,
    });
    expect(await registry.rotationSchedule(others[0]!, validity)).toEqual({
      renewAt: new Date(at(60 * 86_400_000)),
      requested: false,
    });
  });

  test("stopped after one page and resumed an hour later, it marks each device once, at the rate it began with", async () => {
    const ids = await activeDevices(t, registry, 500, "acme");
    const job = (await jobs.start("rotate", { tenant: "acme" }, admin, {
      rate: { devices: 600, per: "minute" },
    })) as BulkJob;
    expect(await jobs.run(job.id, 1)).toMatchObject({ state: "running", applied: 200 });
    clock.advance(3600);
    // Resumed by another worker (a fresh service on the same database): the rate is the job's.
    const elsewhere = registryOn(t.database, clock).jobs;
    expect(await elsewhere.run(job.id)).toMatchObject({
      state: "done",
      applied: 500,
      refused: 0,
      rate: { devices: 600, per: "minute" },
    });
    const rows = await requests(t);
    expect(rows.map((r) => r.device_id)).toEqual(ids);
    // The first page spread from the start; the rest from the resumption, at the same pace (not all at once).
    expect(rows.slice(0, 200).map((r) => r.renew_at.toISOString())).toEqual(
      ids.slice(0, 200).map((_, k) => at(k * 100)),
    );
    expect(rows.slice(200).map((r) => r.renew_at.toISOString())).toEqual(
      ids.slice(200).map((_, k) => at(3600_000 + k * 100)),
    );
    const { leaves, events } = await recorded(t);
    expect([...countEach(leaves.map((l) => l.details.device)).values()].every((n) => n === 1)).toBe(true);
    expect(countEach(leaves.map((l) => l.details.device)).size).toBe(500);
    expect(events).toHaveLength(500);
    // Running it again does nothing.
    await jobs.run(job.id);
    expect((await recorded(t)).leaves).toHaveLength(500);
  });

  test("a rate of 0, negative, fractional or absurd, a rate on another command, a wrong role: refused, nothing stored", async () => {
    await activeDevices(t, registry, 3, "acme");
    for (const devices of [0, -5, 1.5, 100_001, 1e12]) {
      await expect(
        jobs.start("rotate", { tenant: "acme" }, admin, { rate: { devices, per: "second" } }),
      ).rejects.toMatchObject({
        code: "malformed-request",
        message: expect.stringMatching(/a job's rate is 1–100000 devices per second/),
      });
    }
    await expect(
      jobs.start("suspend", { tenant: "acme" }, admin, { rate: { devices: 1, per: "second" } }),
    ).rejects.toMatchObject({ code: "malformed-request", message: expect.stringMatching(/rotate job/) });
    const viewer: Caller = { actor: "token:viewer", role: "viewer", scopes: {} };
    const provisioner: Caller = { actor: "token:prov", role: "provisioner", scopes: {} };
    for (const caller of [viewer, provisioner]) {
      await expect(jobs.start("rotate", { tenant: "acme" }, caller)).rejects.toMatchObject({
        code: "forbidden",
        message: `role "${caller.role}" may not device.lifecycle`,
      });
    }
    // The role lifecycle jobs need is the one a rotate job needs: a security officer may.
    const officer: Caller = { actor: "token:officer", role: "security-officer", scopes: {} };
    expect(await jobs.start("rotate", { tenant: "acme" }, officer, { dryRun: true })).toMatchObject({
      count: 3,
    });
    expect((await jobs.list({}, admin)).items).toEqual([]);
    expect(await requests(t)).toEqual([]);
    expect((await recorded(t)).leaves).toEqual([]);
  });

  test("a policy's cadence decides the due time; a request sooner than it wins", async () => {
    const [id] = await activeDevices(t, registry, 1, "acme");
    // Applied through the registry's own policy service: the one its check-in answers read.
    await policies.apply(
      { actor: "token:policy", role: "policy-admin", scopes: {} },
      'keyfleet: policy/v1\nissuance:\n  - rule: acme\n    when: resource.tenant == "acme"\n    rotationDays: 10\n',
      "ten-day rotation",
    );
    const validity = { notBefore: new Date(t0), notAfter: new Date(Date.parse(t0) + 30 * 86_400_000) };
    expect(await registry.rotationSchedule(id!, validity)).toEqual({
      renewAt: new Date(at(10 * 86_400_000)),
      requested: false,
    });
    const job = (await jobs.start("rotate", { tenant: "acme" }, admin)) as BulkJob;
    await jobs.run(job.id);
    expect(await registry.rotationSchedule(id!, validity)).toEqual({
      renewAt: new Date(t0),
      requested: true,
    });
  });
});

describe("a bulk rotate job across a crash [postgres]", () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await testDatabase("postgres");
  });
  afterEach(() => t.dispose());

  test("killed (SIGKILL) after its first page and resumed, it marks each of 5,000 devices exactly once", async () => {
    const { registry, jobs } = registryOn(t.database, systemClock);
    await activeDevices(t, registry, 5_000, "fleet");
    const job = (await jobs.start("rotate", { tenant: "fleet" }, admin, {
      rate: { devices: 50, per: "second" },
    })) as BulkJob;
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
    while ((await jobs.get(job.id, admin)).applied < 200) await new Promise((r) => setTimeout(r, 20));
    worker.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect((await jobs.get(job.id, admin)).applied).toBeLessThan(5_000);

    expect(await jobs.run(job.id)).toMatchObject({
      state: "done",
      applied: 5_000,
      rate: { devices: 50, per: "second" },
    });
    const { leaves, events } = await recorded(t);
    const perDevice = countEach(leaves.map((l) => l.details.device));
    expect(perDevice.size).toBe(5_000);
    expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
    expect(events).toHaveLength(5_000);
    expect(await requests(t)).toHaveLength(5_000);
    // Each due time 20 ms after the one before within a window: no two devices due together.
    const due = (await requests(t)).map((r) => r.renew_at.getTime());
    expect(new Set(due).size).toBe(5_000);
  });
});
