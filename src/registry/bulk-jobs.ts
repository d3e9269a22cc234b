/**
 * Bulk jobs: one lifecycle command applied to every device matching a filter, as a job stored in
 * the database; or `rotate`, which marks each active device due for rotation (rotation-requests.ts),
 * at a rate that spreads their due times (rotation-pacing.ts). A dry run counts and shows a sample;
 * a job past its cap is refused. Devices are taken in id order, a page per transaction that writes
 * each device's item row with its transition (or request), so a job killed mid-run is resumed by
 * any node (the job row is claimed with `for update skip locked`) and never applies its command
 * twice to one device.
 */
import { randomUUID } from "node:crypto";
import { KeyfleetError, isKeyfleetError, quoted } from "../domain/index.js";
import { authorize, listScope, parseRole, type Caller } from "../policy/index.js";
import { bulkJobRepository, deviceRepository, type BulkJobRow, type DeviceQuery } from "../store/index.js";
import { checkDeviceQuery } from "./device-query.js";
import { deviceOf, type Device } from "./device-record.js";
import type { RegistryDeps } from "./registration.js";
import { requestRotationIn } from "./rotation-requests.js";
import { checkJobRate, pacer, type JobRate } from "./rotation-pacing.js";
import { applyIn, operatorCommands, type Acting, type OperatorCommand } from "./transitions.js";

/** What a job does to each device: a lifecycle command, or `rotate` (a request that it rotate). */
export const jobCommands = [...operatorCommands, "rotate"] as const;
export type JobCommand = (typeof jobCommands)[number];

/** The filter of a job: a device query without paging or scope (the caller's scope is added). */
export type JobFilter = Omit<DeviceQuery, "after" | "limit" | "scope" | "certificateExpiringBefore">;

export interface BulkJob {
  readonly id: string;
  readonly command: JobCommand;
  readonly filter: JobFilter;
  readonly reason: string | null;
  /** A rotate job's rate; null: every device due at once. */
  readonly rate: JobRate | null;
  readonly state: "running" | "done";
  /** Devices matching when the job was made. */
  readonly total: number;
  readonly applied: number;
  readonly refused: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface DryRun {
  readonly dryRun: true;
  readonly count: number;
  readonly sample: readonly Device[];
}

/** The most devices one job may touch unless its creator says more (`cap`), and the most it may say. */
export const defaultJobCap = 10_000;
export const maxJobCap = 1_000_000;
/** Devices read per page while a job runs. */
const pageSize = 200;

export function bulkJobs(deps: RegistryDeps) {
  const jobs = bulkJobRepository(deps.database.db);
  const devices = deviceRepository(deps.database.db);

  async function start(
    command: JobCommand,
    filter: JobFilter,
    caller: Caller,
    options: { dryRun?: boolean; cap?: number; reason?: string; rate?: JobRate | undefined } = {},
  ): Promise<BulkJob | DryRun> {
    authorize(caller, "device.lifecycle");
    if (!(jobCommands as readonly string[]).includes(command)) {
      throw new KeyfleetError("malformed-request", `a job's command is one of ${jobCommands.join(", ")}`);
    }
    const rate = options.rate === undefined ? null : checkJobRate(options.rate);
    if (rate !== null && command !== "rotate") {
      throw new KeyfleetError(
        "malformed-request",
        `a rate spreads the due times of a rotate job; a ${command} job applies at once`,
      );
    }
    checkDeviceQuery(filter);
    const cap = options.cap ?? defaultJobCap;
    if (!Number.isInteger(cap) || cap < 1 || cap > maxJobCap) {
      throw new KeyfleetError("malformed-request", `a job's cap is 1–${maxJobCap} devices`);
    }
    const query = { ...filter, scope: listScope(caller) };
    const count = await devices.count(query, cap);
    if (options.dryRun) {
      return { dryRun: true, count, sample: (await devices.list({ ...query, limit: 10 })).map(deviceOf) };
    }
    if (count > cap) {
      throw new KeyfleetError(
        "malformed-request",
        `the filter matches more than ${cap} devices, the job's cap: narrow the filter, or raise the cap after a dry run`,
      );
    }
    if (count === 0) throw new KeyfleetError("malformed-request", "the filter matches no device");
    const row = await jobs.insert({
      id: randomUUID(),
      command,
      filter: JSON.stringify(filter),
      reason: options.reason ?? null,
      total: count,
      rate_devices: rate?.devices ?? null,
      rate_per: rate?.per ?? null,
      created_by: caller.actor,
      caller: JSON.stringify({ actor: caller.actor, role: caller.role, scopes: caller.scopes }),
    });
    return jobOf(row);
  }

  /**
   * Works the job, a page of devices at a time, to its end or for `pages` pages (the CLI works in
   * steps and draws its progress between them); returns the job as it then is. Where another
   * worker holds the job, it returns at once.
   */
  async function run(id: string, pages = Number.POSITIVE_INFINITY): Promise<BulkJob> {
    let row = await jobs.byId(id);
    if (!row) throw new KeyfleetError("not-found", `no job ${quoted(id)}`);
    const caller = callerOfJob(row);
    const query = { ...(row.filter as JobFilter), scope: listScope(caller) };
    for (let page = 0; row.state === "running" && page < pages; page++) {
      const next = await devices.list({ ...query, after: row.cursor ?? undefined, limit: pageSize });
      if (next.length === 0) {
        await jobs.finish(id, deps.clock.now());
      } else {
        const held = !(await applyPage(
          row,
          caller,
          next.map((d) => d.id),
        ));
        if (held) return jobOf((await jobs.byId(id))!);
      }
      row = (await jobs.byId(id))!;
    }
    return jobOf(row);
  }

  /**
   * A page of devices in one transaction: each device's item row and its transition, then the
   * job's counters and cursor. A crash rolls the page back whole, so no device is changed without
   * its item. False if another worker holds the job.
   */
  async function applyPage(job: BulkJobRow, caller: Caller, deviceIds: readonly string[]): Promise<boolean> {
    const acting: Acting = { caller, policy: await deps.policies.current(), permission: "device.lifecycle" };
    return deps.database.transaction(async (tx) => {
      const repo = bulkJobRepository(tx);
      const claimed = await repo.claim(job.id);
      if (!claimed) return false;
      // The page's devices first, in id order, then (per transition) the audit head: the order a
      // single transition takes them in, so the two never wait on each other in a cycle.
      await deviceRepository(tx).lockAll(deviceIds);
      const now = deps.clock.now();
      const counts = { applied: 0, refused: 0 };
      const pace = pacer(rateOf(claimed), { from: claimed.paced_from, paced: claimed.paced }, now);
      for (const deviceId of deviceIds) {
        if (!(await repo.addItem({ job_id: job.id, device_id: deviceId, outcome: "applied", at: now })))
          continue;
        try {
          const reason = job.reason ?? undefined;
          if (job.command === "rotate") {
            // A due time is taken only by a device marked: a refused one leaves no gap in the pace.
            await requestRotationIn(deps, tx, deviceId, acting, { jobId: job.id, reason, due: pace.next });
          } else {
            await applyIn(deps, tx, deviceId, { kind: job.command as OperatorCommand }, acting, { reason });
          }
          counts.applied++;
        } catch (e) {
          // A refusal is decided before anything is written; any other failure ends the page.
          if (!isKeyfleetError(e) || e.code === "internal" || e.code === "store-unavailable") throw e;
          await repo.refuseItem(job.id, deviceId, e.code, e.message);
          counts.refused++;
        }
      }
      await repo.progress(job.id, counts, deviceIds[deviceIds.length - 1]!, now, pace.pacing());
      return true;
    });
  }

  return {
    start,
    run,
    async get(
      id: string,
      caller: Caller,
    ): Promise<
      BulkJob & { refusedItems: { deviceId: string; code: string | null; message: string | null }[] }
    > {
      authorize(caller, "device.read");
      const row = await jobs.byId(id);
      if (!row || !visibleTo(row, caller)) throw new KeyfleetError("not-found", `no job ${quoted(id)}`);
      const refused = await jobs.refusedItems(id, 20);
      return {
        ...jobOf(row),
        refusedItems: refused.map((r) => ({ deviceId: r.device_id, code: r.code, message: r.message })),
      };
    },
    async list(options: { after?: string | undefined; limit?: number | undefined }, caller: Caller) {
      authorize(caller, "device.read");
      const page = await jobs.list(options);
      return { items: page.items.filter((r) => visibleTo(r, caller)).map(jobOf), next: page.next };
    },
    /** Runs every running job one after another (the background task; any node may run it). */
    async runPending(): Promise<void> {
      for (const id of await jobs.running(10)) await run(id);
    },
  };
}

export type BulkJobs = ReturnType<typeof bulkJobs>;

/** A scoped caller sees the jobs of callers with the same scope only; unscoped callers see all. */
function visibleTo(row: BulkJobRow, caller: Caller): boolean {
  return (
    listScope(caller) === undefined || JSON.stringify(row.caller.scopes) === JSON.stringify(caller.scopes)
  );
}

function callerOfJob(row: BulkJobRow): Caller {
  return { actor: row.caller.actor, role: parseRole(row.caller.role), scopes: row.caller.scopes };
}

function rateOf(row: BulkJobRow): JobRate | null {
  return row.rate_devices === null || row.rate_per === null
    ? null
    : { devices: row.rate_devices, per: row.rate_per };
}

function jobOf(row: BulkJobRow): BulkJob {
  return {
    id: row.id,
    command: row.command as JobCommand,
    filter: row.filter as JobFilter,
    reason: row.reason,
    rate: rateOf(row),
    state: row.state,
    total: row.total,
    applied: row.applied,
    refused: row.refused,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A job as JSON (API and CLI). */
export function bulkJobJson(job: BulkJob) {
  return { ...job, createdAt: job.createdAt.toISOString(), updatedAt: job.updatedAt.toISOString() };
}
