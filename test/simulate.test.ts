/**
 * `keyfleet simulate`: a fleet of real agents (each with its own key, made in its own file store)
 * against a real `keyfleet serve`. 1,000 devices enroll with their bootstrap tokens and renew, with
 * no failure; every one ends active, confirmed by its own use of each certificate. Bad input is
 * refused before anything is registered.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { keyfleetServe, runCli, stop } from "./support/cli.js";

const passphrase = { KEYFLEET_PASSPHRASE: "simulate test passphrase" };

describe("keyfleet simulate [pglite]", () => {
  let root: string;
  let data: string;
  let server: ChildProcess | undefined;
  const kf = (args: string[]) => runCli(["--data", data, ...args], passphrase);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "keyfleet-simulate-test-"));
    data = join(root, "data");
    expect((await kf(["init"])).code).toBe(0);
    server = (await keyfleetServe(["--data", data, "--https-port", "0", "--http-port", "0"], passphrase))
      .child;
  });
  afterAll(async () => {
    if (server) await stop(server);
    await rm(root, { recursive: true, force: true });
  });

  test("1,000 devices enroll and renew with zero failures, each ending active after confirming both certificates", async () => {
    const res = await kf(["--json", "simulate", "--devices", "1000", "--concurrency", "16"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as {
      run: string;
      failures: unknown[];
      phases: { phase: string; attempted: number; succeeded: number; confirmed: number }[];
    };
    expect(report.failures).toEqual([]);
    expect(report.phases).toMatchObject([
      { phase: "enroll", attempted: 1000, succeeded: 1000, confirmed: 1000 },
      { phase: "renew", attempted: 1000, succeeded: 1000, confirmed: 1000 },
    ]);

    const label = `simulation=${report.run}`;
    const count = async (state: string) => {
      const dry = await kf([
        "--json",
        "job",
        "start",
        "suspend",
        "--label",
        label,
        "--state",
        state,
        "--dry-run",
      ]);
      expect(dry.code, dry.stderr).toBe(0);
      return (JSON.parse(dry.stdout) as { count: number }).count;
    };
    expect(await count("active")).toBe(1000);
    const shown = await kf(["--json", "device", "list", "--label", label, "--limit", "1"]);
    const [device] = JSON.parse(shown.stdout) as { id: string }[];
    const history = await kf(["--json", "device", "history", device!.id]);
    expect(
      (JSON.parse(history.stdout) as { items: { command: string }[] }).items.map((e) => e.command),
    ).toEqual(["issue", "confirm", "rotate", "commit"]);
  }, 900_000);

  test("bad input is refused with one line, and registers nothing", async () => {
    const before = (await kf(["--json", "device", "list"])).stdout;
    const refusals = [
      [
        ["simulate", "--devices", "0"],
        /^keyfleet: --devices must be a whole number from 1 to 100000.*\(malformed-request\)\n$/,
      ],
      [
        ["simulate", "--devices", "5", "--server", "http://127.0.0.1:1"],
        /https:\/\/ only \(malformed-request\)\n$/,
      ],
      [
        ["simulate", "--devices", "5", "--server", "https://127.0.0.1:1"],
        /cannot reach .*ECONNREFUSED \(unavailable\)\n$/,
      ],
      [
        ["simulate", "--devices", "5", "--ca-bundle", join(root, "absent.pem")],
        /cannot read --ca-bundle .*\(invalid-configuration\)\n$/,
      ],
    ] as const;
    for (const [args, message] of refusals) {
      const res = await kf([...args]);
      expect(res.code, args.join(" ")).toBe(1);
      expect(res.stderr).toMatch(message);
    }
    expect((await kf(["--json", "device", "list"])).stdout).toBe(before);
  });
});

describe("keyfleet simulate without a server [pglite]", () => {
  test("says it needs one, and registers nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "keyfleet-simulate-alone-"));
    try {
      const kf = (args: string[]) => runCli(["--data", join(root, "data"), ...args], passphrase);
      expect((await kf(["init"])).code).toBe(0);
      const res = await kf(["simulate", "--devices", "3"]);
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(
        "keyfleet: keyfleet simulate drives a running server: start `keyfleet serve`, or name one with --server URL (invalid-configuration)\n",
      );
      expect(JSON.parse((await kf(["--json", "device", "list"])).stdout)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
