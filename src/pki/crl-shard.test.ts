/** CRL shards (crl-shard.ts): a serial's shard, and the counts a CA may have. */
import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { checkCrlShards, crlShardOf, maxCrlShards } from "./crl-shard.js";

test("one shard, or none: shard 0", () => {
  expect(crlShardOf(Uint8Array.of(0x7f, 0xff), 1)).toBe(0);
  expect(crlShardOf(Uint8Array.of(0x7f, 0xff), 0)).toBe(0);
});

test("the serial's last four octets, modulo the count", () => {
  expect(crlShardOf(Uint8Array.of(0x01, 0x00, 0x00, 0x00, 0x05), 4)).toBe(1);
  expect(crlShardOf(Uint8Array.of(0x01, 0x00, 0x00, 0x01, 0x00), 3)).toBe(256 % 3);
  expect(crlShardOf(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 7)).toBe(0xffffffff % 7);
  expect(crlShardOf(Uint8Array.of(9), 5)).toBe(4);
});

test("random serials fill every shard, evenly", () => {
  const counts = new Array<number>(8).fill(0);
  for (let i = 0; i < 8000; i++) counts[crlShardOf(randomBytes(16), 8)]!++;
  for (const n of counts) expect(n).toBeGreaterThan(800); // 1000 each expected; 800 is far below any chance
});

test("a CA has 1 to 64 shards, whole", () => {
  expect(checkCrlShards(1)).toBe(1);
  expect(checkCrlShards(maxCrlShards)).toBe(64);
  for (const bad of [0, -1, 65, 2.5, Number.NaN]) {
    expect(() => checkCrlShards(bad)).toThrow(`a CA has 1 to 64 CRL shards, not ${bad}`);
  }
});
