/**
 * `keyfleet events exec` on PostgreSQL (its own scratch schema): the command runs once per event of
 * the types followed, in order, with the event in its environment and on its stdin; the cursor file
 * makes a restart neither miss nor repeat one; a failing command stops the consumer before its event
 * (which runs again at the next start); bad flags and a bad cursor file are one line, changing nothing.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { keyfleetChild, runCli, type CliResult } from "./support/cli.js";
import { eventually } from "./support/mosquitto.js";
import { adminQuery } from "./support/databases.js";

const passphrase = { KEYFLEET_PASSPHRASE: "events exec test passphrase" };

/** Prints what the command learnt of its event: the environment, then stdin. No event data is a command line. */
const show = [
  "sh",
  "-c",
  'printf "%s %s %s %s\\n" "$KEYFLEET_EVENT_POSITION" "$KEYFLEET_EVENT_TYPE" "$KEYFLEET_EVENT_SUBJECT" "$KEYFLEET_EVENT_PAYLOAD"; cat',
];

describe("keyfleet events exec on PostgreSQL", () => {
  const schema = `kf_events_${randomBytes(5).toString("hex")}`;
  const url = inject("postgresUrl");
  let env: NodeJS.ProcessEnv;
  let root: string;
  const kf = (...args: string[]) => runCli(args, env);
  const exec = (cursor: string, ...rest: string[]) =>
    kf("events", "exec", "--type", "crl.published", "--cursor", join(root, cursor), "--once", ...rest);

  function ok(res: CliResult): string {
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    return res.stdout;
  }

  function refused(res: CliResult, message: RegExp, code: string): void {
    expect(res).toMatchObject({ code: 1, stdout: "" });
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(new RegExp(`\\(${code}\\)\\n$`));
    expect(res.stderr.split("\n")).toHaveLength(2);
  }

  /** The events the `show` command printed: position, type, subject, payload (env) and the event (stdin). */
  function shown(stdout: string) {
    const lines = stdout.trim().split("\n").filter(Boolean);
    const out = [];
    for (let i = 0; i < lines.length; i += 2) {
      const [position, type, subject, ...payload] = lines[i]!.split(" ");
      out.push({
        position: Number(position),
        type,
        subject,
        payload: JSON.parse(payload.join(" ")) as Record<string, unknown>,
        stdin: JSON.parse(lines[i + 1]!) as { position: number; type: string; payload: unknown },
      });
    }
    return out;
  }

  const publish = async () =>
    JSON.parse(ok(await kf("--json", "crl", "publish"))) as {
      issuerId: string;
      kind: string;
      number: string;
      entries: number;
      nextUpdate: string;
    }[];

  beforeAll(async () => {
    await adminQuery(url, `create schema ${schema}`);
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    root = await mkdtemp(join(tmpdir(), "keyfleet-events-exec-"));
    env = { ...passphrase, DATABASE_URL: u.toString(), KEYFLEET_DATA: join(root, "data") };
    ok(await kf("init", "--public-url", "http://pki.events.test"));
    await publish(); // before the consumer's first start: "now" is after it
  }, 120_000);
  afterAll(async () => {
    await adminQuery(url, `drop schema ${schema} cascade`);
    await rm(root, { recursive: true, force: true });
  });

  test("from now: each later crl.published once, in order, env and stdin alike; a restart repeats none", async () => {
    expect(ok(await exec("a.cursor", "--", ...show))).toBe("");
    const start = Number(await readFile(join(root, "a.cursor"), "utf8"));
    const first = await publish();
    ok(await kf("device", "register", "--serial", "EVT-1")); // another type: skipped
    const second = await publish();

    const ran = shown(ok(await exec("a.cursor", "--", ...show)));
    const published = [...first, ...second];
    expect(ran).toHaveLength(published.length);
    ran.forEach((e, i) => {
      const { issuerId, kind, number, entries, nextUpdate } = published[i]!;
      expect(e.payload).toMatchObject({ issuerId, kind, number, entries, nextUpdate });
    });
    for (const e of ran) {
      expect(e.type).toBe("crl.published");
      expect(e.subject).toBe(`ca:${String(e.payload.issuerId)}`);
      expect(e.stdin).toMatchObject({ position: e.position, type: e.type, payload: e.payload });
      expect(e.position).toBeGreaterThan(start);
    }
    expect(ran.map((e) => e.position)).toEqual([...ran.map((e) => e.position)].sort((a, b) => a - b));
    expect(await readFile(join(root, "a.cursor"), "utf8")).toBe(`${ran.at(-1)!.position}\n`);

    expect(ok(await exec("a.cursor", "--", ...show))).toBe(""); // restarted: nothing again
  }, 120_000);

  test("a failing command stops before its event, which the next start runs: none missed", async () => {
    ok(await exec("b.cursor", "--", "true"));
    const before = await readFile(join(root, "b.cursor"), "utf8");
    const published = await publish();
    refused(
      await exec("b.cursor", "--", "false"),
      /^keyfleet: "false" exited with status 1 on event \d+ \(crl\.published [0-9a-f-]+\); the cursor stays before it/,
      "unavailable",
    );
    expect(await readFile(join(root, "b.cursor"), "utf8")).toBe(before);
    refused(
      await exec("b.cursor", "--", join(root, "no-such-program")),
      /cannot run ".*no-such-program" for event \d+/,
      "not-found",
    );
    expect(await readFile(join(root, "b.cursor"), "utf8")).toBe(before);
    const ran = shown(ok(await exec("b.cursor", "--", ...show)));
    expect(ran.map((e) => e.payload.number)).toEqual(published.map((c) => c.number));
  }, 120_000);

  test("--from start runs every past crl.published too", async () => {
    const ran = shown(ok(await exec("c.cursor", "--from", "start", "--", ...show)));
    expect(ran.length).toBeGreaterThanOrEqual(2); // beforeAll's publication (one CRL per CA) at least
    expect(ran[0]!.payload.number).toBe("1");
  }, 120_000);

  test("bad flags and a bad cursor file are refused in one line and change nothing", async () => {
    const cursor = join(root, "bad.cursor");
    refused(
      await exec("bad.cursor", "--from", "later", "--", "true"),
      /--from must be now or start/,
      "malformed-request",
    );
    refused(
      await exec("bad.cursor", "--interval", "0", "--", "true"),
      /--interval must be a number of seconds/,
      "malformed-request",
    );
    refused(
      await kf("events", "exec", "--type", "crl.publish", "--cursor", cursor, "--once", "--", "true"),
      /unknown event type "crl\.publish"; the outbox holds .*crl\.published/,
      "malformed-request",
    );
    refused(await exec("bad.cursor"), /missing required argument 'command'/, "malformed-request");
    refused(
      await kf("events", "exec", "--cursor", cursor, "--", "true"),
      /required option '--type <type>' not specified/,
      "malformed-request",
    );
    await expect(stat(cursor)).rejects.toThrow(); // none of them wrote a cursor
    refused(
      await exec(join("missing-dir", "x.cursor"), "--", "true"),
      /cannot write the cursor file/,
      "invalid-configuration",
    );
    await writeFile(cursor, "twelve\n");
    refused(
      await exec("bad.cursor", "--", "true"),
      /does not hold a cursor written by keyfleet events exec/,
      "malformed-request",
    );
    expect(await readFile(cursor, "utf8")).toBe("twelve\n");
  }, 120_000);
});

describe("keyfleet events exec on the embedded database", () => {
  test("follows the running server only: --once is refused without one, and a follower waits, then stops on SIGTERM", async () => {
    const root = await mkdtemp(join(tmpdir(), "keyfleet-events-embedded-"));
    try {
      const args = ["--data", join(root, "data"), "events", "exec", "--type", "crl.published"];
      const cursor = join(root, "cursor");
      const once = await runCli([...args, "--cursor", cursor, "--once", "--", "true"]);
      expect(once).toMatchObject({ code: 1, stdout: "" });
      expect(once.stderr).toMatch(
        /^keyfleet: no `keyfleet serve` holds .*data: on the embedded database, events are followed through the running server \(unavailable\)\n$/,
      );

      const follower = keyfleetChild([...args, "--cursor", cursor, "--interval", "0.2", "--", "true"]);
      const exited = new Promise<number | null>((r) => follower.child.once("exit", (code) => r(code)));
      await eventually("the follower to say it waits", async () =>
        follower.output().includes("retrying every 0.2 s"),
      );
      follower.child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(follower.output().match(/keyfleet: warning: no `keyfleet serve` holds/g)).toHaveLength(1); // said once
      await expect(stat(cursor)).rejects.toThrow(); // no feed, no cursor
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
