/**
 * A rotate job's rate (so many devices per second or per minute) and the due times it spreads over
 * the devices it marks, so that a fleet does not renew in one stampede. The k-th device of a window
 * is due at `from + k × period / devices` (exact, whatever the rate). A window starts at the first
 * device marked; a job that falls behind its own pace (it was stopped, and resumed later) starts a
 * new window at the time it goes on, so the devices still to mark are spread at the same rate, not
 * all due at once. Pure: the job's pacing and the time in, due times out.
 */
import { KeyfleetError } from "../domain/index.js";

export const rateUnits = ["second", "minute"] as const;
export type RateUnit = (typeof rateUnits)[number];

export interface JobRate {
  readonly devices: number;
  readonly per: RateUnit;
}

/** Above this, a rate spreads nothing worth spreading; such a number is a mistake. */
export const maxRateDevices = 100_000;

const periodMs: Readonly<Record<RateUnit, number>> = { second: 1000, minute: 60_000 };

export function checkJobRate(rate: JobRate): JobRate {
  if (!(rateUnits as readonly string[]).includes(rate.per)) {
    throw new KeyfleetError("malformed-request", `a job's rate is per ${rateUnits.join(" or per ")}`);
  }
  if (!Number.isInteger(rate.devices) || rate.devices < 1 || rate.devices > maxRateDevices) {
    throw new KeyfleetError(
      "malformed-request",
      `a job's rate is 1–${maxRateDevices} devices per ${rate.per}, not ${String(rate.devices)}`,
    );
  }
  return rate;
}

/** Where a job's pacing stands: the start of its window (null: none yet) and the devices spread over it. */
export interface Pacing {
  readonly from: Date | null;
  readonly paced: number;
}

export interface Pacer {
  /** The due time of the next device marked. */
  next(): Date;
  /** The pacing to keep on the job after the devices marked so far. */
  readonly pacing: () => Pacing;
}

/** Due times for a page of devices marked `now`; without a rate every device is due `now`. */
export function pacer(rate: JobRate | null, kept: Pacing, now: Date): Pacer {
  if (rate === null) return { next: () => now, pacing: () => kept };
  const period = periodMs[rate.per];
  const at = (from: Date, k: number) => new Date(from.getTime() + Math.floor((k * period) / rate.devices));
  // Behind its own pace (or not begun): a new window from now.
  const fresh = kept.from === null || at(kept.from, kept.paced).getTime() < now.getTime();
  const from = fresh ? now : kept.from!;
  let paced = fresh ? 0 : kept.paced;
  return {
    next: () => at(from, paced++),
    pacing: () => ({ from, paced }),
  };
}
