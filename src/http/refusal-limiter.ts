/**
 * How many refused requests become audit leaves. Every refusal of a privileged request is worth
 * recording, but each leaf is permanent, so an anonymous flood of bad tokens must not grow the log
 * (or slow issuance, which shares its writer) without bound: per kind of refusal (who, which
 * route, which code, from where) one leaf a minute, carrying how many like it went unrecorded
 * since; and at most `perMinute` leaves a minute in all, the rest counted into the next leaf of
 * their kind. Every refusal is still counted in /metrics (keyfleet_http_problems_total).
 */
export interface RefusalLimits {
  readonly windowMs: number;
  readonly perMinute: number;
  /** Kinds remembered at once; beyond, the oldest are forgotten (their counts with them). */
  readonly maxKinds: number;
}

export const defaultRefusalLimits: RefusalLimits = { windowMs: 60_000, perMinute: 120, maxKinds: 10_000 };

export function refusalLimiter(limits: RefusalLimits = defaultRefusalLimits, now: () => number = Date.now) {
  const kinds = new Map<string, { window: number; unrecorded: number }>();
  let window = -1;
  let recordedInWindow = 0;

  return {
    /** Whether to record this refusal now, and how many of its kind went unrecorded before it. */
    admit(kind: string): { record: boolean; unrecordedBefore: number } {
      const w = Math.floor(now() / limits.windowMs);
      if (w !== window) {
        window = w;
        recordedInWindow = 0;
      }
      let state = kinds.get(kind);
      if (!state) {
        if (kinds.size >= limits.maxKinds) kinds.delete(kinds.keys().next().value!);
        state = { window: -1, unrecorded: 0 };
        kinds.set(kind, state);
      }
      if (state.window === w || recordedInWindow >= limits.perMinute) {
        state.unrecorded++;
        return { record: false, unrecordedBefore: 0 };
      }
      const unrecordedBefore = state.unrecorded;
      state.window = w;
      state.unrecorded = 0;
      recordedInWindow++;
      return { record: true, unrecordedBefore };
    },
  };
}

export type RefusalLimiter = ReturnType<typeof refusalLimiter>;
