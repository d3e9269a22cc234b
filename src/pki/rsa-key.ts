/**
 * RSA public key validation: the partial public-key validation of NIST SP 800-56B Rev. 2 §6.4.2.1
 * (also SP 800-89 §5.3.3), which is what a CA can check without the private key, plus a cheap
 * test for primes too close together. Each rule refuses a key whose private key anyone can find:
 * - e odd, 2^16 < e < 2^256 (FIPS 186-5 §A.1.1). e = 1 makes every s its own signature.
 * - n odd, with no prime factor below 752 (SP 800-56B §6.4.2.1 step e): else trial division
 *   factors it.
 * - n not a perfect power m^k (k ≥ 2): the integer k-th root factors it (n = p^k is the case the
 *   SP names; any m^k is no RSA modulus).
 * - p and q not so close that Fermat's method finds them in 100 steps (as Let's Encrypt's
 *   goodkey does; CVE-2022-26320: embedded key generators that searched for q upward from p).
 *
 * Not checked: that n is composite at all. The test is one modular exponentiation of n's size,
 * measured at 2.7 / 11 / 23 ms for 2048 / 3072 / 4096 bits (node:crypto checkPrime, one round)
 * against ≈ 0.2 ms for all of the above; it would make every RSA CSR a 10–100× CPU lever. No key
 * generator makes a prime modulus, so only a requester who crafts one gets one, for a key that
 * then identifies nobody but its requester's own device.
 *
 * Cost, measured on this machine: ≈ 0.2 ms for a 2048- or 4096-bit modulus (the first key of a size
 * also builds its sieve tables, ≈ 0.3 ms once).
 */

/** Odd primes below 752 (SP 800-56B Rev. 2 §6.4.2.1 step e; 2 is the parity check). */
const smallPrimes: readonly number[] = primesBelow(752).slice(1);

// Products of consecutive small primes that fit in 52 bits: one BigInt remainder per product,
// then Number arithmetic per prime (≈ 30 BigInt divisions instead of 131).
const primeGroups: readonly { readonly product: bigint; readonly primes: readonly number[] }[] = (() => {
  const groups: { product: bigint; primes: number[] }[] = [];
  let product = 1;
  let primes: number[] = [];
  for (const q of smallPrimes) {
    if (product * q > 2 ** 52) {
      groups.push({ product: BigInt(product), primes });
      product = 1;
      primes = [];
    }
    product *= q;
    primes.push(q);
  }
  groups.push({ product: BigInt(product), primes });
  return groups;
})();

function primesBelow(limit: number): number[] {
  const composite = new Uint8Array(limit);
  const out: number[] = [];
  for (let i = 2; i < limit; i++) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j < limit; j += i) composite[j] = 1;
  }
  return out;
}

const FERMAT_ROUNDS = 100;

const bigintOf = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);

export const bitLength = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);

/**
 * ⌊n^(1/k)⌋ for k ≥ 2: a floating-point estimate (≈ 50 correct bits) raised by a relative 2^−30
 * so that it starts above the root, then Newton's iteration, which falls to the floor from
 * above and stops there (the next step would not be smaller).
 */
export function integerRoot(n: bigint, k: number): bigint {
  if (n < 2n) return n;
  const bits = bitLength(n);
  const shift = Math.max(0, bits - 53);
  const rootLog2 = (Math.log2(Number(n >> BigInt(shift))) + shift) / k;
  const scale = Math.max(0, Math.floor(rootLog2) - 50);
  let x = (BigInt(Math.ceil(2 ** (rootLog2 - scale) * (1 + 2 ** -30))) + 1n) << BigInt(scale);
  const K = BigInt(k);
  for (;;) {
    const next = ((K - 1n) * x + n / x ** (K - 1n)) / K;
    if (next >= x) return x;
    x = next;
  }
}

/** Whether n = m^k for an integer m ≥ `minimumRoot` and some k ≥ 2 (a prime k suffices: m^(ab) = (m^a)^b). */
function isPerfectPower(n: bigint, minimumRoot: number): boolean {
  const maxK = Math.floor(bitLength(n) / Math.log2(minimumRoot));
  for (const k of primesBelow(maxK + 1)) {
    if (!mayBeKthPower(n, k)) continue;
    const root = integerRoot(n, k);
    if (root ** BigInt(k) === n) return true;
  }
  return false;
}

/**
 * A sieve before the root: for a prime q ≡ 1 (mod k), a k-th power is 0 or a k-th power residue
 * mod q (r^((q−1)/k) ≡ 1), which a number that is none passes with probability 1/k. Enough such q
 * to leave 2^−24 for a modulus that is no power, so the root (≈ 0.02 ms each at 4096 bits, for
 * each of ≈ 80 exponents) is almost never taken: ≈ 1.3 small remainders per exponent instead.
 */
function mayBeKthPower(n: bigint, k: number): boolean {
  for (const q of residueModuli(k)) {
    const r = Number(n % BigInt(q));
    if (r !== 0 && powMod(r, (q - 1) / k, q) !== 1) return false;
  }
  return true;
}

const residueModuliCache = new Map<number, readonly number[]>();

/** Primes q ≡ 1 (mod k) below 2^21 (so that products stay exact in a double), ⌈24 / log2 k⌉ of them. */
function residueModuli(k: number): readonly number[] {
  let out = residueModuliCache.get(k);
  if (!out) {
    const wanted = Math.ceil(24 / Math.log2(k));
    const found: number[] = [];
    for (let q = k + 1; found.length < wanted && q < 2 ** 21; q += k) if (isSmallPrime(q)) found.push(q);
    out = found;
    residueModuliCache.set(k, out);
  }
  return out;
}

function isSmallPrime(q: number): boolean {
  if (q < 2 || q % 2 === 0) return q === 2;
  for (let d = 3; d * d <= q; d += 2) if (q % d === 0) return false;
  return true;
}

function powMod(base: number, exponent: number, m: number): number {
  let result = 1;
  let b = base % m;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

function smallFactor(n: bigint): number | undefined {
  for (const { product, primes } of primeGroups) {
    const r = Number(n % product);
    for (const q of primes) if (r % q === 0) return q;
  }
  return undefined;
}

// Squares modulo 64, 63, 65 and 11: a number that is not a square modulo one of them is no square,
// which settles ≈ 99.4% of Fermat's candidates without a square root.
const squareResidues = [64, 63, 65, 11].map((m) => {
  const residues = new Uint8Array(m);
  for (let i = 0; i < m; i++) residues[(i * i) % m] = 1;
  return { m: BigInt(m), residues };
});

function isSquare(n: bigint): boolean {
  for (const { m, residues } of squareResidues) if (!residues[Number(n % m)]) return false;
  const root = integerRoot(n, 2);
  return root * root === n;
}

/** Fermat's method: n = a² − b² = (a − b)(a + b) for a from ⌈√n⌉, `FERMAT_ROUNDS` steps. */
function hasCloseFactors(n: bigint): boolean {
  let a = integerRoot(n, 2);
  if (a * a < n) a += 1n;
  let b2 = a * a - n;
  for (let i = 0; i < FERMAT_ROUNDS; i++) {
    if (isSquare(b2)) return true;
    b2 += 2n * a + 1n; // (a + 1)² − n
    a += 1n;
  }
  return false;
}

/**
 * Why the RSA key (modulus and exponent as the unsigned magnitudes of their DER INTEGERs, already
 * checked minimal and positive) must not be certified, or undefined when it may be. The modulus
 * size is the registry's business (spki.ts); this reads the numbers.
 */
export function rsaKeyProblem(modulus: Uint8Array, exponent: Uint8Array): string | undefined {
  // 2^256 − 1 has 32 octets: anything longer is out of range before it becomes a BigInt.
  if (exponent.length > 32)
    return "the RSA public exponent is 2^256 or more (FIPS 186-5 §A.1.1: below 2^256)";
  const e = bigintOf(exponent);
  if (e <= 65536n) {
    const anyone = e === 1n ? ", so anyone can make signatures for it" : "";
    return `the RSA public exponent ${e} is below 65537 (FIPS 186-5 §A.1.1)${anyone}`;
  }
  if (!(e & 1n)) return "the RSA public exponent is even (FIPS 186-5 §A.1.1)";
  const n = bigintOf(modulus);
  if (!(n & 1n)) return "the RSA modulus is even, so anyone can factor it";
  const factor = smallFactor(n);
  if (factor !== undefined) return `the RSA modulus has the factor ${factor}, so anyone can factor it`;
  if (isPerfectPower(n, 752)) return "the RSA modulus is a perfect power, so anyone can factor it";
  if (hasCloseFactors(n))
    return "the RSA modulus's primes are too close together, so anyone can factor it (Fermat)";
  return undefined;
}
