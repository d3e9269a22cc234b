/** The token cache (token-cache.ts): its bound, expiry, eviction and revocation epoch. */
import { expect, test } from "vitest";
import { epochSeconds, TokenCache } from "./token-cache.js";

const t0 = new Date("2026-12-01T00:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const entry = (tokenId: string, expiresAt: Date | null = null) => ({
  principal: { kind: "token" as const, tokenId, role: "operator" as const, scopes: {} },
  expiresAt,
  lastUsedAt: null,
});

test("keeps at most its size, dropping the least recently used", () => {
  const cache = new TokenCache(2);
  cache.set("a", entry("A"));
  cache.set("b", entry("B"));
  expect(cache.get("a", t0)?.principal.tokenId).toBe("A"); // a is now the most recent
  cache.set("c", entry("C"));
  expect(cache.entries).toBe(2);
  expect(cache.get("b", t0)).toBeUndefined();
  expect(cache.get("a", t0)?.principal.tokenId).toBe("A");
  expect(cache.get("c", t0)?.principal.tokenId).toBe("C");
});

test("never answers for a token past its expiry", () => {
  const cache = new TokenCache();
  cache.set("a", entry("A", at(60)));
  expect(cache.get("a", at(59))).toBeDefined();
  expect(cache.get("a", at(60))).toBeUndefined();
  expect(cache.entries).toBe(0);
});

test("evicts a token by id", () => {
  const cache = new TokenCache();
  cache.set("a", entry("A"));
  cache.set("b", entry("B"));
  cache.evict("A");
  expect(cache.get("a", t0)).toBeUndefined();
  expect(cache.get("b", t0)).toBeDefined();
});

test("the epoch is read again once a second old; a changed epoch empties the cache, the same one keeps it", () => {
  const cache = new TokenCache();
  expect(cache.epochDue(t0)).toBe(true);
  cache.observeEpoch(3, t0);
  cache.set("a", entry("A"));
  expect(cache.epochDue(at(epochSeconds - 0.001))).toBe(false);
  expect(cache.epochDue(at(epochSeconds))).toBe(true);
  cache.observeEpoch(3, at(epochSeconds));
  expect(cache.get("a", at(1))).toBeDefined();
  cache.observeEpoch(4, at(2));
  expect(cache.get("a", at(2))).toBeUndefined();
});
