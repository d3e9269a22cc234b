/**
 * The public URL as every process sees it: the database's setting, read again at most every
 * `refreshMs`, so a change made by any process (a CLI on PostgreSQL, another node) reaches every
 * other within that time, without a query per certificate.
 */
import { KeyfleetError, type Clock } from "../domain/index.js";
import type { SettingsRepository } from "../store/index.js";

export const publicUrlKey = "public-url";
const refreshMs = 10_000;

export function publicUrlSetting(settings: SettingsRepository, clock: Clock, fallback: string | undefined) {
  let cached: { readonly value: Promise<string>; readonly at: number } | undefined;
  const read = async (): Promise<string> => {
    const value = (await settings.get(publicUrlKey)) ?? fallback;
    if (value === undefined) {
      throw new KeyfleetError(
        "invalid-configuration",
        "the authority has no public URL: set one with `keyfleet config set public-url URL`",
      );
    }
    return value;
  };
  return {
    get(): Promise<string> {
      const now = clock.now().getTime();
      if (!cached || now - cached.at >= refreshMs) {
        const value = read();
        cached = { value, at: now };
        value.catch(() => (cached = undefined)); // a failed read is not kept
      }
      return cached.value;
    },
    /** After this process changed it: read it afresh. */
    forget(): void {
      cached = undefined;
    },
  };
}
