/**
 * A bulk rotate job refuses bad input precisely and changes nothing: a rate of 0, negative,
 * fractional, absurd or in an unknown unit, a rate on a command it does not pace, an unknown filter
 * field, a role without device.lifecycle. Over HTTP each is problem+json; on the CLI one line
 * `keyfleet: … (code)`. A good job says its rate back.
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp } from "../src/http/index.js";
import { systemCaller } from "../src/policy/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { runCli, type CliResult } from "./support/cli.js";

describe("bulk rotate jobs over HTTP", () => {
  let t: TestApp;
  let http: FastifyInstance;
  let admin: string;
  let viewer: string;
  let provisioner: string;

  beforeAll(async () => {
    t = await testApp("pglite");
    const run = await ensureInitialized(t.app, { algorithm: "p256" });
    admin = (await readFile(run.adminTokenFile!, "utf8")).trim();
    viewer = (await t.app.tokens.create({ role: "viewer" })).token;
    provisioner = (await t.app.tokens.create({ role: "provisioner" })).token;
    http = await buildHttpApp(t.app, "full");
    for (const n of [1, 2, 3]) {
      await t.app.devices.register({ serialNumber: `ROT-HTTP-${n}`, tenant: "acme" }, systemCaller);
    }
    await t.db.database.db
      .updateTable("devices")
      .set({ state: "active" })
      .where("tenant", "=", "acme")
      .execute();
  });
  afterAll(async () => {
    await http?.close();
    await t?.dispose();
  });

  const counts = async () => {
    const n = async (table: "rotation_requests" | "bulk_jobs" | "outbox") =>
      Number(
        (
          await t.db.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return { requests: await n("rotation_requests"), jobs: await n("bulk_jobs"), outbox: await n("outbox") };
  };
  const start = (payload: object, token = admin): InjectOptions => ({
    method: "POST",
    url: "/api/v1/jobs",
    payload,
    headers: { authorization: `Bearer ${token}` },
  });

  async function refused(request: InjectOptions, status: number, code: string, detail: RegExp) {
    const before = await counts();
    const res = await http.inject(request);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status, code, type: `/problems/${code}` });
    expect(res.json().detail).toMatch(detail);
    expect(await counts()).toEqual(before);
  }

  test("a bad rate, an unknown filter field or a rate on another command is problem+json, and nothing changes", async () => {
    const filter = { tenant: "acme" };
    for (const [devices, message] of [
      [0, /rate\/devices must be >= 1/],
      [-5, /rate\/devices must be >= 1/],
      [1.5, /rate\/devices must be integer/],
      [1_000_000_000, /rate\/devices must be <= 100000/],
      ["10", /rate\/devices must be integer/],
    ] as const) {
      await refused(
        start({ command: "rotate", filter, rate: { devices, per: "second" } }),
        400,
        "malformed-request",
        message,
      );
    }
    await refused(
      start({ command: "rotate", filter, rate: { devices: 5, per: "hour" } }),
      400,
      "malformed-request",
      /rate\/per must be equal to one of the allowed values/,
    );
    await refused(
      start({ command: "rotate", filter, rate: "10/s" }),
      400,
      "malformed-request",
      /rate must be object/,
    );
    await refused(
      start({ command: "rotate", filter: { colour: "red" } }),
      400,
      "malformed-request",
      /filter must NOT have additional properties/,
    );
    await refused(
      start({ command: "suspend", filter, rate: { devices: 5, per: "second" } }),
      400,
      "malformed-request",
      /a rate spreads the due times of a rotate job/,
    );
  });

  test("a role without device.lifecycle is refused (403) and nothing changes", async () => {
    for (const token of [viewer, provisioner]) {
      await refused(
        start({ command: "rotate", filter: { tenant: "acme" } }, token),
        403,
        "forbidden",
        /may not device\.lifecycle/,
      );
    }
  });

  test("a rotate job with a rate says its rate back, and its devices are marked", async () => {
    const started = await http.inject(
      start({
        command: "rotate",
        filter: { tenant: "acme" },
        rate: { devices: 2, per: "minute" },
        reason: "new CA",
      }),
    );
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json()).toMatchObject({
      command: "rotate",
      rate: { devices: 2, per: "minute" },
      total: 3,
    });
    await t.app.tasks.runNow("bulk-jobs");
    const job = await http.inject({
      method: "GET",
      url: `/api/v1/jobs/${started.json().id}`,
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(job.json()).toMatchObject({
      state: "done",
      applied: 3,
      refused: 0,
      rate: { devices: 2, per: "minute" },
    });
    expect((await counts()).requests).toBe(3);
  });
});

describe("bulk rotate jobs on the CLI", () => {
  let data: string;
  const env = { KEYFLEET_PASSPHRASE: "rotation cli passphrase" };
  const kf = (args: string[]) => runCli(["--data", data, ...args], env);

  beforeAll(async () => {
    data = join(await mkdtemp(join(tmpdir(), "keyfleet-rotation-cli-")), "data");
    expect((await kf(["init", "--algorithm", "p256"])).code).toBe(0);
    for (const n of [1, 2]) {
      expect((await kf(["device", "register", "--serial", `ROT-CLI-${n}`, "--tenant", "acme"])).code).toBe(0);
    }
  });
  afterAll(() => rm(join(data, ".."), { recursive: true, force: true }));

  function expectRefused(res: CliResult, line: string): void {
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(`keyfleet: ${line}\n`);
    expect(res.code).toBe(1);
  }

  test("a bad rate, an unknown filter or a rate on another command is one line with its code; no job is made", async () => {
    const rotate = (...more: string[]) => kf(["job", "start", "rotate", "--tenant", "acme", ...more]);
    expectRefused(
      await rotate("--rate", "0/s"),
      "a job's rate is 1–100000 devices per second, not 0 (malformed-request)",
    );
    expectRefused(
      await rotate("--rate", "1000000000/min"),
      "a job's rate is 1–100000 devices per minute, not 1000000000 (malformed-request)",
    );
    for (const bad of ["-3/s", "10/h", "1.5/s", "fast"]) {
      expectRefused(
        await rotate("--rate", bad),
        `--rate is devices per second or per minute, as N/s or N/min (e.g. 10/s), got "${bad}" (malformed-request)`,
      );
    }
    expectRefused(await rotate("--colour", "red"), "unknown option '--colour' (malformed-request)");
    expectRefused(
      await kf(["job", "start", "suspend", "--tenant", "acme", "--rate", "1/s"]),
      "a rate spreads the due times of a rotate job; a suspend job applies at once (malformed-request)",
    );
    expect(JSON.parse((await kf(["job", "list", "--json"])).stdout)).toEqual({ items: [], next: null });
  });

  test("a rotate job runs to its end; devices not active refuse it, each with its reason", async () => {
    const dry = await kf(["job", "start", "rotate", "--tenant", "acme", "--rate", "10/s", "--dry-run"]);
    expect(dry.stdout).toMatch(/^2 devices match; a sample:/);
    const done = await kf([
      "job",
      "start",
      "rotate",
      "--tenant",
      "acme",
      "--rate",
      "10/s",
      "--reason",
      "new CA",
    ]);
    expect(done.stderr).toBe("");
    expect(done.stdout).toMatch(/rotate\s+done\s+2\/2 \(0 applied, 2 refused\) {2}at 10\/s {2}by /);
    const id = done.stdout.split(/\s+/)[0]!;
    expect((await kf(["job", "show", id])).stdout).toMatch(
      /refused \S+: cannot rotate device "\S+": it is registered; a rotation is requested of an active device \(invalid-transition\)/,
    );
  });
});
