/**
 * Renewal by itself: sleep until the renewal time of the current certificate (domain/renewal-time.ts),
 * renew, and start over with the new one. While the server is unreachable (or answers "try later")
 * the loop backs off exponentially with jitter (retry.ts), honouring a Retry-After when the server
 * sent one; other failures (a refused credential, a broken configuration) are reported and retried
 * at the back-off's cap, since a device should not give up on its identity, nor hammer a server
 * that says no. While it waits it checks in with the server now and then (erase.ts): a device told
 * to erase does so and the loop ends. Clock, sleep and randomness are parameters, so the loop is
 * tested without waiting.
 */
import { isKeyfleetError } from "../domain/index.js";
import { backoffDelay, type BackoffOptions } from "./retry.js";

export interface RenewalLoopEvent {
  readonly event: "waiting" | "renewed" | "retrying" | "check-in-failed" | "done";
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
  /** Asks the server what to do (erasing if told to): false when the device is done for good. */
  readonly checkIn?: () => Promise<boolean>;
  /** How often to check in while waiting (default an hour). */
  readonly checkInEveryMs?: number;
}

/** A failed check-in is reported and the loop goes on: the device keeps its identity while offline. */
async function checkedIn(deps: RenewalLoopDeps): Promise<boolean> {
  if (!deps.checkIn) return true;
  try {
    if (await deps.checkIn()) return true;
    deps.report({ event: "done", at: deps.now(), message: "the device erased its keys: it is retired" });
    return false;
  } catch (e) {
    deps.report({
      event: "check-in-failed",
      at: deps.now(),
      code: isKeyfleetError(e) ? e.code : "internal",
      message: e instanceof Error ? e.message : String(e),
    });
    return true;
  }
}

/** setTimeout holds at most 2^31−1 ms (≈ 24.8 days): longer waits are slept in steps. */
const MAX_SLEEP = 24 * 3600_000;

export async function renewalLoop(deps: RenewalLoopDeps): Promise<void> {
  let failures = 0;
  const every = deps.checkInEveryMs ?? 3600_000;
  while (!deps.stopped()) {
    if (!(await checkedIn(deps))) return;
    const due = await deps.renewAt();
    if (due.getTime() > deps.now().getTime()) {
      deps.report({ event: "waiting", at: deps.now(), until: due });
      while (!deps.stopped() && due.getTime() > deps.now().getTime()) {
        await deps.sleep(Math.min(MAX_SLEEP, every, due.getTime() - deps.now().getTime()));
        if (!deps.stopped() && !(await checkedIn(deps))) return;
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
