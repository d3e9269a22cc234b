/**
 * Degenerate RSA keys built from their definitions: every one is refused, and keys from a real
 * key generator are not.
 */
import { checkPrimeSync, generateKeyPairSync, generatePrimeSync } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { bitLength, integerRoot, rsaKeyProblem } from "./rsa-key.js";

const big = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString("hex")}`);
const octets = (n: bigint): Uint8Array => {
  const h = n.toString(16);
  return Uint8Array.from(Buffer.from(h.length % 2 ? `0${h}` : h, "hex"));
};
const F4 = octets(65537n);

function realModulus(bits: number): bigint {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" });
  return big(Buffer.from(jwk.n!, "base64url"));
}

const prime = (bits: number): bigint => generatePrimeSync(bits, { bigint: true }) as bigint;

/** A prime `bits` long whose `power` has exactly `targetBits` bits. */
function primeWithPowerOfSize(bits: number, power: number, targetBits: number): bigint {
  for (;;) {
    const p = prime(bits);
    if (bitLength(p ** BigInt(power)) === targetBits) return p;
  }
}

let n2048: bigint;
beforeAll(() => {
  n2048 = realModulus(2048);
});

describe("integerRoot", () => {
  test("is the floor of the k-th root, for random sizes and exponents", () => {
    let seed = 7n;
    const next = () => (seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n);
    for (let i = 0; i < 400; i++) {
      let n = 0n;
      const words = 1 + Number(next() % 64n);
      for (let w = 0; w < words; w++) n = (n << 64n) | next();
      const k = 2 + Number(next() % 40n);
      const r = integerRoot(n, k);
      const K = BigInt(k);
      expect(r ** K <= n && (r + 1n) ** K > n, `n=${n} k=${k}`).toBe(true);
    }
    const m = prime(700);
    expect(integerRoot(m ** 3n, 3)).toBe(m);
    expect(integerRoot(m ** 3n - 1n, 3)).toBe(m - 1n);
  });
});

describe("rsaKeyProblem", () => {
  test("accepts keys node:crypto generates (2048, 3072, 4096 bits, e = 65537)", () => {
    for (const bits of [2048, 3072, 4096])
      expect(rsaKeyProblem(octets(realModulus(bits)), F4)).toBeUndefined();
  });

  test.each([
    [1n, /exponent 1 is below 65537.*anyone can make signatures/],
    [3n, /exponent 3 is below 65537/],
    [65535n, /exponent 65535 is below 65537/],
    [65538n, /exponent is even/],
    [2n ** 255n, /exponent is even/],
    [2n ** 256n, /2\^256 or more/],
    [2n ** 256n + 1n, /2\^256 or more/],
  ])("refuses the public exponent %s", (e, message) => {
    expect(rsaKeyProblem(octets(n2048), octets(e))).toMatch(message);
  });

  test("accepts the largest exponent allowed, 2^256 − 1", () => {
    expect(rsaKeyProblem(octets(n2048), octets(2n ** 256n - 1n))).toBeUndefined();
  });

  test("refuses an even modulus", () => {
    expect(rsaKeyProblem(octets(n2048 + 1n), F4)).toMatch(/modulus is even/);
  });

  /** q × p1 × p2, 2048 bits, p1 and p2 large primes: q is its only small factor. */
  function withSmallFactor(q: bigint): bigint {
    const half = Math.floor((2048 - bitLength(q)) / 2);
    for (;;) {
      const n = q * prime(half) * prime(2048 - bitLength(q) - half + 1);
      if (bitLength(n) === 2048) return n;
    }
  }

  test.each([3n, 101n, 751n])(
    "refuses a modulus with the small factor %s (SP 800-56B: none below 752)",
    (q) => {
      expect(rsaKeyProblem(octets(withSmallFactor(q)), F4)).toMatch(new RegExp(`has the factor ${q},`));
    },
  );

  test("does not look past the bound: 757 · p1 · p2 passes (no generator makes one; the SP sets 752)", () => {
    expect(rsaKeyProblem(octets(withSmallFactor(757n)), F4)).toBeUndefined();
  });

  test("refuses perfect powers: p², p³, (p·q)², and m^k for a large prime k", () => {
    const p2 = primeWithPowerOfSize(1024, 2, 2048) ** 2n;
    const p3 = primeWithPowerOfSize(1024, 3, 3072) ** 3n;
    let pq2: bigint;
    do pq2 = (prime(512) * prime(512)) ** 2n;
    while (bitLength(pq2) !== 2048);
    // The largest exponent the check must try: the smallest root with no factor below 752 is 757.
    let mk: bigint | undefined;
    for (let m = 757n; !mk; m += 2n) {
      if (!checkPrimeSync(m)) continue;
      for (let k = 211n; k > 100n && !mk; k -= 2n) {
        if (checkPrimeSync(k) && bitLength(m ** k) === 2048) mk = m ** k;
      }
    }
    for (const n of [p2, p3, pq2, mk]) expect(rsaKeyProblem(octets(n), F4)).toMatch(/perfect power/);
  });

  test("refuses primes close enough for Fermat's method, accepts them far apart", () => {
    const p = prime(1024);
    let q = p + 2n ** 500n; // odd, as p is
    while (!checkPrimeSync(q)) q += 2n;
    expect(rsaKeyProblem(octets(p * q), F4)).toMatch(/too close together/);
    let far = p + 2n ** 1000n;
    while (!checkPrimeSync(far)) far += 2n;
    expect(rsaKeyProblem(octets(p * far), F4)).toBeUndefined();
  });
});
