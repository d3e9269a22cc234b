import { describe, expect, test } from "vitest";
import { checkJobRate, pacer, type JobRate } from "./rotation-pacing.js";

const t0 = new Date("2026-06-01T00:00:00Z");
const ms = (d: Date) => d.getTime() - t0.getTime();
const take = (p: ReturnType<typeof pacer>, n: number) => Array.from({ length: n }, () => ms(p.next()));

describe("rotation pacing", () => {
  test("without a rate every device is due now, and the pacing stays as it was", () => {
    const p = pacer(null, { from: null, paced: 0 }, t0);
    expect(take(p, 3)).toEqual([0, 0, 0]);
    expect(p.pacing()).toEqual({ from: null, paced: 0 });
  });

  test.each([
    [{ devices: 10, per: "second" }, [0, 100, 200, 300]],
    [{ devices: 3, per: "second" }, [0, 333, 666, 1000]],
    [{ devices: 1, per: "minute" }, [0, 60_000, 120_000, 180_000]],
    [{ devices: 7, per: "minute" }, [0, 8571, 17142, 25714]],
  ] as [JobRate, number[]][])("%o spreads devices exactly, without drift", (rate, due) => {
    expect(take(pacer(rate, { from: null, paced: 0 }, t0), 4)).toEqual(due);
  });

  test("a page that follows on its pace continues the window", () => {
    const first = pacer({ devices: 10, per: "second" }, { from: null, paced: 0 }, t0);
    take(first, 200);
    expect(first.pacing()).toEqual({ from: t0, paced: 200 });
    // The next page, a moment later (still ahead of its pace): devices 200, 201…
    const second = pacer({ devices: 10, per: "second" }, first.pacing(), new Date(t0.getTime() + 50));
    expect(take(second, 2)).toEqual([20_000, 20_100]);
  });

  test("a job resumed behind its pace starts a new window at the time it goes on, at the same rate", () => {
    const later = new Date(t0.getTime() + 3600_000);
    const resumed = pacer({ devices: 10, per: "second" }, { from: t0, paced: 200 }, later);
    expect(take(resumed, 3)).toEqual([3600_000, 3600_100, 3600_200]);
    expect(resumed.pacing()).toEqual({ from: later, paced: 3 });
  });
});

describe("a job's rate", () => {
  test.each([0, -1, 1.5, 100_001, 1e12, Number.NaN])("refuses %s devices", (devices) => {
    expect(() => checkJobRate({ devices, per: "second" })).toThrow(
      expect.objectContaining({
        code: "malformed-request",
        message: expect.stringMatching(/1–100000 devices per second/),
      }),
    );
  });
  test("refuses a unit other than second or minute", () => {
    expect(() => checkJobRate({ devices: 1, per: "hour" as never })).toThrow(
      expect.objectContaining({ code: "malformed-request" }),
    );
  });
  test("takes 1 per minute and 100000 per second", () => {
    expect(checkJobRate({ devices: 1, per: "minute" })).toEqual({ devices: 1, per: "minute" });
    expect(checkJobRate({ devices: 100_000, per: "second" })).toEqual({ devices: 100_000, per: "second" });
  });
});
