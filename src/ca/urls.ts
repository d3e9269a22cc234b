/**
 * Where relying parties find an issuer's certificate, CRL and OCSP responder. Certificates carry
 * these URLs (RFC 5280 §4.2.1.13 CRL distribution points, §4.2.2.1 authority information access),
 * so the HTTP routes serve exactly these paths. The delta CRL's URL is in the full CRL (Freshest
 * CRL, §5.2.6), not in the certificates. An issuer with CRL shards publishes one full and one
 * delta CRL per shard: shard 0 at the unsharded names (what its certificates named before it was
 * sharded), shard k at `<ca>-s<k>`.
 */
import type { RevocationUrls } from "../pki/index.js";
import type { CrlScopeKey } from "../store/index.js";

export interface IssuerUrls extends RevocationUrls {
  readonly deltaCrl: string;
}

export type CrlKind = "full" | "delta";

/** One CRL scope of an issuer: its shard. */
export type CrlScope = CrlScopeKey;

/** A CRL's path below the public URL (and its artefact's name): `crl/<ca>[-s<k>][-delta].crl`. */
export function crlPath(scope: CrlScope, kind: CrlKind): string {
  const shard = scope.shard === 0 ? "" : `-s${scope.shard}`;
  return `crl/${scope.issuerId}${shard}${kind === "delta" ? "-delta" : ""}.crl`;
}

export function issuerUrls(publicUrl: string, issuerId: string, shard = 0): IssuerUrls {
  const scope = { issuerId, shard };
  return {
    caIssuers: `${publicUrl}/ca/${issuerId}.cer`,
    crl: `${publicUrl}/${crlPath(scope, "full")}`,
    deltaCrl: `${publicUrl}/${crlPath(scope, "delta")}`,
    ocsp: `${publicUrl}/ocsp`,
  };
}

/** The URLs of each of an issuer's CRL shards, for its certificates (compileIssuer). */
export function shardUrls(publicUrl: string, issuerId: string, shards: number): IssuerUrls[] {
  return Array.from({ length: shards }, (_, shard) => issuerUrls(publicUrl, issuerId, shard));
}
