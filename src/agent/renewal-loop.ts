/**
 * Renewal by itself: sleep until the renewal time of the current certificate (renewal-time.ts),
 * renew, and start over with the new one. While the server is unreachable (or answers "try later")
 * the loop backs off exponentially with jitter (retry.ts), honouring a Retry-After when the server
 * sent one; other failures (a refused credential, a broken configuration) are reported and retried
 * at the back-off's cap, since a device should not give up on its identity, nor hammer a server
 * that says no. Clock, sleep and randomness are parameters, so the loop is tested without waiting.
 */
import { isKeyfleetError } from "../domain/index.js";
import { backoffDelay, type BackoffOptions } from "./retry.js";

export interface RenewalLoopEvent {
  readonly event: "waiting" | "renewed" | "retrying";
  readonly at: Date;
  readonly until?: Date;
  readonly code?: string;
  readonly message?: string;
}

export interface RenewalLoopDeps {
  /** When the current certificate is due for renewal. */
  renewAt(): Promise<Date>;
  renew(): Promise<void>;
  readonly now: () => Date;
  /** Resolves after `ms`, or early when the loop is stopped. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly report: (event: RenewalLoopEvent) => void;
  readonly stopped: () => boolean;
  readonly backoff?: BackoffOptions;
}

/** setTimeout holds at most 2^31−1 ms (≈ 24.8 days): longer waits are slept in steps. */
const MAX_SLEEP = 24 * 3600_000;

export async function renewalLoop(deps: RenewalLoopDeps): Promise<void> {
  let failures = 0;
  while (!deps.stopped()) {
    const due = await deps.renewAt();
    if (due.getTime() > deps.now().getTime()) {
      deps.report({ event: "waiting", at: deps.now(), until: due });
      while (!deps.stopped() && due.getTime() > deps.now().getTime()) {
        await deps.sleep(Math.min(MAX_SLEEP, due.getTime() - deps.now().getTime()));
      }
      if (deps.stopped()) return;
    }
    try {
      await deps.renew();
      failures = 0;
      deps.report({ event: "renewed", at: deps.now() });
    } catch (e) {
      const transient = isKeyfleetError(e, "unavailable");
      const asked = isKeyfleetError(e) ? (e.detail?.retryAfterMs as number | undefined) : undefined;
      const wait = transient
        ? Math.max(asked ?? 0, backoffDelay(failures++, deps.random, deps.backoff))
        : backoffDelay(64, deps.random, deps.backoff);
      deps.report({
        event: "retrying",
        at: deps.now(),
        until: new Date(deps.now().getTime() + wait),
        code: isKeyfleetError(e) ? e.code : "internal",
        message: e instanceof Error ? e.message : String(e),
      });
      await deps.sleep(wait);
    }
  }
}
