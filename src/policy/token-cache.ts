/**
 * Verified API tokens, kept so that a request does not look its token up in the database (issue
 * 19): keyed by the secret's hash, bounded (the least recently used goes first), and never trusted
 * past the token's expiry. A revocation on this node evicts at once; one on another node (or
 * straight in the database) is seen through the revocation epoch — how many tokens have ever been
 * revoked, which only grows — that a node reads again when it is `epochSeconds` old, and a change
 * of which empties the cache. Pure: the epoch is handed in, the clock is the caller's.
 */
import type { TokenPrincipal } from "./principal.js";

/** How stale this node's view of revocations elsewhere may be. */
export const epochSeconds = 1;
/** The most tokens kept. */
export const defaultTokenCacheSize = 10_000;

export interface CachedToken {
  readonly principal: TokenPrincipal;
  /** Null: never expires. */
  readonly expiresAt: Date | null;
  /** When its last use was written (tokens.ts writes it at most once a minute). */
  lastUsedAt: Date | null;
}

export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  #epoch: number | undefined;
  #epochReadAt = Number.NEGATIVE_INFINITY;

  constructor(readonly size = defaultTokenCacheSize) {}

  /** Whether the epoch must be read again before the cache is trusted at `now`. */
  epochDue(now: Date): boolean {
    return now.getTime() - this.#epochReadAt >= epochSeconds * 1000;
  }

  /** The epoch as read at `now`: a change since the last reading empties the cache. */
  observeEpoch(epoch: number, now: Date): void {
    if (this.#epoch !== undefined && epoch !== this.#epoch) this.#entries.clear();
    this.#epoch = epoch;
    this.#epochReadAt = now.getTime();
  }

  /** The token of this hash, if kept and not expired at `now` (an expired one is dropped). */
  get(hash: string, now: Date): CachedToken | undefined {
    const entry = this.#entries.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt.getTime() <= now.getTime()) {
      this.#entries.delete(hash);
      return undefined;
    }
    this.#entries.delete(hash); // most recently used last
    this.#entries.set(hash, entry);
    return entry;
  }

  set(hash: string, entry: CachedToken): void {
    this.#entries.delete(hash);
    this.#entries.set(hash, entry);
    while (this.#entries.size > this.size) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Drops the token with this id (revoked here). */
  evict(tokenId: string): void {
    for (const [hash, entry] of this.#entries) {
      if (entry.principal.tokenId === tokenId) this.#entries.delete(hash);
    }
  }

  get entries(): number {
    return this.#entries.size;
  }
}
