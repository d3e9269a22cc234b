/**
 * CRL shards: an issuer's certificates spread over `shards` CRLs, so that a large fleet's relying
 * parties each fetch a fraction of its revocations. A certificate's shard follows from its serial
 * (random, so the shards fill evenly) and the issuer's shard count when it was issued; its CRL
 * distribution point names the shard, and the row records it, so a later change of the count
 * moves nothing.
 */
import { KeyfleetError } from "../domain/index.js";

/** The most shards an issuer may have. */
export const maxCrlShards = 64;

export function checkCrlShards(shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > maxCrlShards) {
    throw new KeyfleetError("malformed-request", `a CA has 1 to ${maxCrlShards} CRL shards, not ${shards}`);
  }
  return shards;
}

/** The shard of the certificate with this serial (unsigned big-endian) among `shards`. */
export function crlShardOf(serial: Uint8Array, shards: number): number {
  if (shards <= 1) return 0;
  let value = 0;
  for (let i = Math.max(0, serial.length - 4); i < serial.length; i++) value = value * 256 + serial[i]!;
  return value % shards;
}
