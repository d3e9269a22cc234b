/** Time comes in as a port, so rules are testable with a fixed clock (CONVENTIONS §4). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(iso: string): Clock & { advance(seconds: number): void } {
  let t = new Date(iso).getTime();
  return {
    now: () => new Date(t),
    advance: (seconds) => {
      t += seconds * 1000;
    },
  };
}
