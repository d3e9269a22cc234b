/**
 * When to try again. Pure: time and randomness are parameters. Back-off is exponential with "equal
 * jitter" (half fixed, half random), so a fleet that lost its server at the same moment spreads its
 * retries instead of returning as one wave, while each device still waits at least half the step.
 */

export interface BackoffOptions {
  readonly baseMs?: number;
  readonly capMs?: number;
}

/** The wait before retry `attempt` (0 for the first retry): within [step/2, step], step = min(cap, base·2^attempt). */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1_000;
  const cap = options.capMs ?? 60 * 60_000;
  const step = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt, 52)));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in milliseconds from `now`;
 * undefined when absent or unreadable (the caller falls back to its own back-off).
 */
export function retryAfterMs(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month (IMF-fixdate and the obsolete forms, §5.6.7); Date.parse
  // alone would take "-5" for a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
