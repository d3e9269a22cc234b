import { expect, test } from "vitest";
import { uuidV7 } from "./uuid-v7.js";

test("matches RFC 9562 Appendix A.6's example UUIDv7", () => {
  // unix_ts_ms 0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F
  const random = new Uint8Array([0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]);
  expect(uuidV7(0x017f22e279b0, random)).toBe("017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
});

test("keeps version 7 and variant 10 whatever the random octets, and sorts by time", () => {
  const ones = new Uint8Array(10).fill(0xff);
  expect(uuidV7(1, ones)).toMatch(/^00000000-0001-7fff-bfff-ffffffffffff$/);
  const earlier = uuidV7(Date.UTC(2026, 0, 1), ones);
  const later = uuidV7(Date.UTC(2026, 0, 1) + 1, new Uint8Array(10));
  expect(earlier < later).toBe(true);
});

test("refuses a time outside 48 bits and too few random octets", () => {
  expect(() => uuidV7(2 ** 48, new Uint8Array(10))).toThrow(RangeError);
  expect(() => uuidV7(-1, new Uint8Array(10))).toThrow(RangeError);
  expect(() => uuidV7(0, new Uint8Array(9))).toThrow(RangeError);
});
