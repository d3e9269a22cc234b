import { describe, expect, test } from "vitest";
import { KeyfleetError, renewalTime } from "../domain/index.js";
import { renewalLoop, type RenewalLoopEvent } from "./renewal-loop.js";

/** A fake clock that sleeping advances: the loop runs weeks of time in a moment. */
function harness(outcomes: ("ok" | "down" | "refused")[]) {
  let now = new Date("2026-01-01T00:00:00Z").getTime();
  const day = 24 * 3600_000;
  let validity = { notBefore: new Date(now), notAfter: new Date(now + 30 * day) };
  const events: RenewalLoopEvent[] = [];
  const sleeps: number[] = [];
  const renewedAt: Date[] = [];
  return {
    events,
    sleeps,
    renewedAt,
    run: () =>
      renewalLoop({
        renewAt: async () => renewalTime(validity),
        renew: async () => {
          const outcome = outcomes.shift();
          if (outcome === "down")
            throw new KeyfleetError("unavailable", "cannot reach the server: ECONNREFUSED");
          if (outcome === "refused") throw new KeyfleetError("unauthorized", "the server answered 401");
          renewedAt.push(new Date(now));
          validity = { notBefore: new Date(now), notAfter: new Date(now + 30 * day) };
        },
        now: () => new Date(now),
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
        random: () => 0.5,
        report: (e) => events.push(e),
        stopped: () => outcomes.length === 0 && renewedAt.length > 0,
      }),
  };
}

describe("renewal loop", () => {
  test("renews at two thirds of the lifetime, then again two thirds into the new certificate's", async () => {
    const h = harness(["ok", "ok"]);
    await h.run();
    expect(h.renewedAt.map((d) => d.toISOString())).toEqual([
      "2026-01-21T00:00:00.000Z",
      "2026-02-10T00:00:00.000Z",
    ]);
  });

  test("backs off exponentially with jitter while the server is unreachable, then renews", async () => {
    const h = harness(["down", "down", "down", "ok"]);
    await h.run();
    const retries = h.events.filter((e) => e.event === "retrying");
    expect(retries.map((e) => e.code)).toEqual(["unavailable", "unavailable", "unavailable"]);
    // base 1 s, equal jitter at random 0.5: 750 ms, 1.5 s, 3 s
    expect(h.sleeps.slice(-3)).toEqual([750, 1500, 3000]);
    expect(h.renewedAt).toHaveLength(1);
  });

  test("a refusal is not hammered: it waits the back-off's cap", async () => {
    const h = harness(["refused", "ok"]);
    await h.run();
    expect(h.events.find((e) => e.event === "retrying")).toMatchObject({ code: "unauthorized" });
    expect(h.sleeps.at(-1)).toBe(45 * 60_000);
  });

  test("sleeps in steps shorter than setTimeout's limit", async () => {
    const h = harness(["ok"]);
    await h.run();
    expect(Math.max(...h.sleeps)).toBeLessThanOrEqual(24 * 3600_000);
  });
});

describe("renewal loop check-ins", () => {
  test("checks in while it waits, and ends when the device is told to erase", async () => {
    let now = new Date("2026-01-01T00:00:00Z").getTime();
    const checks: number[] = [];
    const events: RenewalLoopEvent[] = [];
    await renewalLoop({
      renewAt: async () => new Date(Date.parse("2026-01-21T00:00:00Z")),
      renew: async () => {
        throw new Error("must not renew: the device was retired before its renewal time");
      },
      now: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
      },
      random: () => 0.5,
      report: (e) => events.push(e),
      stopped: () => false,
      checkInEveryMs: 6 * 3600_000,
      // Down once (the loop goes on), fine twice, then told to erase on the fourth check-in.
      checkIn: async () => {
        checks.push(now);
        if (checks.length === 1) throw new KeyfleetError("unavailable", "cannot reach the server");
        return { retired: checks.length >= 4 };
      },
    });
    expect(checks).toHaveLength(4);
    expect(checks[1]! - checks[0]!).toBe(6 * 3600_000);
    expect(events.map((e) => e.event)).toEqual(["check-in-failed", "waiting", "done"]);
  });
});

describe("renewal loop and the server's due time", () => {
  const day = 24 * 3600_000;
  const t0 = Date.parse("2026-01-01T00:00:00Z");

  /**
   * A 30-day certificate renewed at two thirds (day 20) by the agent; the server answers `answers`
   * in turn, the last one from then on.
   */
  async function run(answers: ((now: number) => { renewAt?: Date; rotate?: boolean })[], renewals = 1) {
    let now = t0;
    let validity = { notBefore: new Date(now), notAfter: new Date(now + 30 * day) };
    const renewedAt: string[] = [];
    const events: RenewalLoopEvent[] = [];
    await renewalLoop({
      renewAt: async () => renewalTime(validity),
      renew: async () => {
        renewedAt.push(new Date(now).toISOString());
        validity = { notBefore: new Date(now), notAfter: new Date(now + 30 * day) };
      },
      now: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
      },
      random: () => 0.5,
      report: (e) => events.push(e),
      stopped: () => renewedAt.length >= renewals,
      checkInEveryMs: day,
      checkIn: async () => {
        const answer = (answers.length > 1 ? answers.shift() : answers[0]) ?? (() => ({}));
        return { retired: false, ...answer(now) };
      },
    });
    return { renewedAt, events };
  }

  test("renews at once when told to rotate", async () => {
    const { renewedAt } = await run([() => ({ rotate: true })]);
    expect(renewedAt).toEqual(["2026-01-01T00:00:00.000Z"]);
  });

  test("renews at the server's time when it is sooner than its own", async () => {
    const { renewedAt, events } = await run([() => ({ renewAt: new Date(t0 + 10 * day) })]);
    expect(renewedAt).toEqual(["2026-01-11T00:00:00.000Z"]);
    expect(events[0]).toMatchObject({ event: "waiting", until: new Date(t0 + 10 * day) });
  });

  test("a later server time does not hold it past its own", async () => {
    const { renewedAt } = await run([() => ({ renewAt: new Date(t0 + 25 * day) })]);
    expect(renewedAt).toEqual(["2026-01-21T00:00:00.000Z"]);
  });

  test("an older server that says nothing leaves its own time", async () => {
    const { renewedAt } = await run([]);
    expect(renewedAt).toEqual(["2026-01-21T00:00:00.000Z"]);
  });

  test("told to rotate while it waits, it renews at that check-in, then waits on the new certificate", async () => {
    // Nothing said on day 0, 1, 2; on day 3 the server says rotate; after the renewal, nothing.
    const { renewedAt, events } = await run(
      [() => ({}), () => ({}), () => ({}), () => ({ rotate: true }), () => ({})],
      2,
    );
    expect(renewedAt).toEqual(["2026-01-04T00:00:00.000Z", "2026-01-24T00:00:00.000Z"]);
    expect(events.filter((e) => e.event === "waiting").map((e) => e.until!.toISOString())).toEqual([
      "2026-01-21T00:00:00.000Z",
      "2026-01-24T00:00:00.000Z",
    ]);
  });

  test("a failed check-in keeps what the server said before", async () => {
    let now = t0;
    const renewedAt: number[] = [];
    let checks = 0;
    await renewalLoop({
      renewAt: async () => new Date(t0 + 20 * day),
      renew: async () => void renewedAt.push(now),
      now: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
      },
      random: () => 0.5,
      report: () => undefined,
      stopped: () => renewedAt.length > 0,
      checkInEveryMs: day,
      checkIn: async () => {
        if (checks++ === 0) return { retired: false, renewAt: new Date(t0 + 2 * day) };
        throw new KeyfleetError("unavailable", "cannot reach the server");
      },
    });
    expect(renewedAt).toEqual([t0 + 2 * day]);
  });
});
