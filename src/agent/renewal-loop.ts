/**
 * Renewal by itself: sleep until the renewal time of the current certificate (domain/renewal-time.ts),
 * or the server's time for it when that is sooner (its check-in answer's `renewAt`; at once when it
 * says `rotate`), renew, and start over with the new one. A server that says nothing of it (an
 * older one) leaves the agent's own time. While the server is unreachable (or answers "try later")
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
  /** Asks the server what to do (erasing if told to), and when the current certificate is due. */
  readonly checkIn?: () => Promise<CheckInAnswer>;
  /** How often to check in while waiting (default an hour). */
  readonly checkInEveryMs?: number;
}

/** What a check-in tells the loop. */
export interface CheckInAnswer {
  /** The device erased its keys: it is retired, and the loop ends. */
  readonly retired: boolean;
  /** When the server holds the current certificate due; undefined: it says nothing of it. */
  readonly renewAt?: Date | undefined;
  /** The server says to rotate now. */
  readonly rotate?: boolean | undefined;
}

/**
 * "retired", or what the server said of the due time (a Date, or undefined for nothing). A failed
 * check-in is reported and the loop goes on ("failed": the device keeps its identity while offline,
 * and what the server said before).
 */
async function checkedIn(deps: RenewalLoopDeps): Promise<"retired" | "failed" | Date | undefined> {
  if (!deps.checkIn) return undefined;
  try {
    const answer = await deps.checkIn();
    if (!answer.retired) return answer.rotate ? deps.now() : answer.renewAt;
    deps.report({ event: "done", at: deps.now(), message: "the device erased its keys: it is retired" });
    return "retired";
  } catch (e) {
    deps.report({
      event: "check-in-failed",
      at: deps.now(),
      code: isKeyfleetError(e) ? e.code : "internal",
      message: e instanceof Error ? e.message : String(e),
    });
    return "failed";
  }
}

/** setTimeout holds at most 2^31−1 ms (≈ 24.8 days): longer waits are slept in steps. */
const MAX_SLEEP = 24 * 3600_000;

export async function renewalLoop(deps: RenewalLoopDeps): Promise<void> {
  let failures = 0;
  const every = deps.checkInEveryMs ?? 3600_000;
  // The server's due time for the current certificate, from its latest answer.
  let told: Date | undefined;
  /** False once the device is retired. */
  const checkIn = async (): Promise<boolean> => {
    const answer = await checkedIn(deps);
    if (answer === "retired") return false;
    if (answer !== "failed") told = answer;
    return true;
  };
  while (!deps.stopped()) {
    if (!(await checkIn())) return;
    const own = (await deps.renewAt()).getTime();
    const due = () => Math.min(own, told?.getTime() ?? own);
    let waitingUntil: number | undefined;
    while (!deps.stopped() && due() > deps.now().getTime()) {
      if (waitingUntil !== due()) {
        waitingUntil = due();
        deps.report({ event: "waiting", at: deps.now(), until: new Date(waitingUntil) });
      }
      await deps.sleep(Math.min(MAX_SLEEP, every, due() - deps.now().getTime()));
      if (!deps.stopped() && !(await checkIn())) return;
    }
    if (deps.stopped()) return;
    try {
      await deps.renew();
      told = undefined; // it was about the certificate just replaced
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
