/**
 * EC public keys on the registry's prime curves (P-256, P-384; FIPS 186-5 / SP 800-186 §3.2.1):
 * the point's encoding (SEC 1 §2.3.3) and SEC 1 §3.2.2.1 public key validation, in BigInt. Both
 * curves have cofactor 1, so every point on the curve other than the point at infinity has the
 * prime order n, and the order check of SEC 1 §3.2.2.1 step 4 is implied.
 *
 * Compressed points (0x02/0x03) are refused, though RFC 5480 §2.2 lets a CA accept them: the
 * certificate carries the CSR's SubjectPublicKeyInfo byte for byte, and relying parties that
 * cannot read a compressed point cannot read the certificate. Go's crypto/x509 fails to parse it
 * (golang/go #73142, open: every Go broker, proxy or service a device talks to); Mbed TLS 2.x,
 * still in much device firmware, cannot read one at all (Mbed-TLS #4785), 3.x only when built
 * with MBEDTLS_PK_PARSE_EC_COMPRESSED; TLS deprecated them (RFC 8422 §5.1.2). Every library that
 * writes a compressed point can write the uncompressed one, so the message asks for that.
 */

export type EcCurve = "P-256" | "P-384";

interface CurveParameters {
  readonly p: bigint;
  /** a = −3 for both curves (SP 800-186 §3.2.1.3, §3.2.1.4). */
  readonly b: bigint;
  readonly octets: number;
}

const curves: Readonly<Record<EcCurve, CurveParameters>> = {
  // SP 800-186 §3.2.1.3
  "P-256": {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    octets: 32,
  },
  // SP 800-186 §3.2.1.4
  "P-384": {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    octets: 48,
  },
};

const bigintOf = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);

/** y² = x³ − 3x + b (mod p), with x and y already reduced. */
export function isOnCurve(curve: EcCurve, x: bigint, y: bigint): boolean {
  const { p, b } = curves[curve];
  return (((y * y - (x * x * x - 3n * x + b)) % p) + p) % p === 0n;
}

/**
 * Why `point` (the subjectPublicKey octets, an ECPoint) is not a key a CA may certify on
 * `curve`, or undefined when it is one: uncompressed, both coordinates below p, on the curve.
 */
export function ecPointProblem(curve: EcCurve, point: Uint8Array): string | undefined {
  const { p, octets } = curves[curve];
  const form = point[0];
  if (point.length === 1 && form === 0x00) return "the EC key is the point at infinity";
  if (form === 0x02 || form === 0x03) {
    return `the EC key is a compressed point, which many relying parties cannot read; send the uncompressed form (0x04‖X‖Y)`;
  }
  if (form === 0x06 || form === 0x07) {
    return "the EC key is in the hybrid form (0x06/0x07), which RFC 5480 §2.2 forbids; send the uncompressed form (0x04‖X‖Y)";
  }
  if (form !== 0x04) return "the EC key is not an ECPoint (SEC 1 §2.3.3: 0x04‖X‖Y)";
  if (point.length !== 1 + 2 * octets) {
    return `an uncompressed ${curve} point is ${1 + 2 * octets} octets, not ${point.length}`;
  }
  const x = bigintOf(point.subarray(1, 1 + octets));
  const y = bigintOf(point.subarray(1 + octets));
  if (x >= p || y >= p) return "the EC key's coordinates are not reduced modulo the curve's prime";
  if (!isOnCurve(curve, x, y)) return "the EC key is not a point on its curve";
  return undefined;
}
