/**
 * UUIDv7 (RFC 9562 §5.7): a 48-bit Unix time in milliseconds, then random bits. Ids made in time
 * order land beside each other in a B-tree, so a batch of new devices touches the right edge of
 * each index on id rather than a random page of each (what UUIDv4 does, once an index outgrows
 * memory). Pure: the time and the ten random octets come in.
 */
export function uuidV7(unixMs: number, random: Uint8Array): string {
  if (random.length < 10) throw new RangeError("a UUIDv7 takes 10 random octets");
  if (!Number.isInteger(unixMs) || unixMs < 0 || unixMs >= 2 ** 48) {
    throw new RangeError("a UUIDv7's time is a 48-bit count of milliseconds");
  }
  const b = new Uint8Array(16);
  let t = unixMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (random[0]! & 0x0f); // version 7, then rand_a's top 4 bits
  b[7] = random[1]!;
  b[8] = 0x80 | (random[2]! & 0x3f); // variant 10, then rand_b
  b.set(random.subarray(3, 10), 9);
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
