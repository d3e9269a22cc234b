/**
 * The delegated OCSP responder of the issuing CA (RFC 6960 §4.2.2.2): a key of its own in the CA's
 * key store, recorded in custody before it is used (key-custody.ts) and activated in the very
 * transaction that records its certificate, and a short-lived `ocsp-responder` certificate
 * (id-kp-OCSPSigning, id-pkix-ocsp-nocheck; pki/profiles.ts) from that CA. `rotate` makes a new
 * one when there is none or the newest has less than a third of its life left; the
 * `ocsp-responder` background task calls it, so every node finds the same responder in the
 * database. Older responder keys stay until their certificates expire (a node may still sign
 * with one until its next refresh), then `rotate` destroys them.
 */
import { randomBytes } from "node:crypto";
import {
  keyAlgorithmsFor,
  type KeyAlgorithmId,
  type KeyCustody,
  type KeyStore,
  type Signer,
} from "../crypto/index.js";
import type { Clock } from "../domain/index.js";
import { profiles } from "../pki/index.js";
import {
  keyRepository,
  ocspRepository,
  type Database,
  type IssuerRepository,
  type IssuerRow,
  type KeyRow,
  type Tx,
} from "../store/index.js";
import { sha256 } from "./hierarchy.js";
import type { Issuance } from "./issuance.js";
import { keyRefOf, keyStoreOfIssuer } from "./issuer-keys.js";

export const responderPurpose = "ocsp-responder";

export interface ResponderIdentity {
  readonly issuerId: string;
  /** The responder certificate's serial (hex): what tells one responder from the next. */
  readonly serial: string;
  readonly certificate: Uint8Array;
  readonly notAfter: Date;
  readonly signer: Signer;
}

export interface OcspDelegateDeps {
  readonly database: Database;
  readonly issuers: IssuerRepository;
  readonly keyStore: KeyStore;
  readonly custody: KeyCustody<Tx>;
  readonly issuance: Issuance;
  readonly clock: Clock;
}

export function ocspDelegates(deps: OcspDelegateDeps) {
  const rows = ocspRepository(deps.database.db);
  const keys = keyRepository(deps.database.db);

  /** The active responder key whose public key the certificate certifies. */
  async function keyOf(publicKeySha256: Uint8Array): Promise<KeyRow | undefined> {
    const active = await keys.active(responderPurpose);
    return active.find((k) => Buffer.compare(sha256(k.public_key), publicKeySha256) === 0);
  }

  /** The issuer's newest responder, if its certificate is still valid and its key active. */
  async function current(issuer: IssuerRow): Promise<ResponderIdentity | undefined> {
    const row = await rows.newestResponder(issuer.id);
    if (!row || row.status !== "good" || row.not_after.getTime() <= deps.clock.now().getTime())
      return undefined;
    const key = await keyOf(row.public_key_sha256);
    if (!key) return undefined;
    return {
      issuerId: issuer.id,
      serial: row.serial,
      certificate: row.der,
      notAfter: row.not_after,
      signer: await deps.keyStore.signer(keyRefOf(key)),
    };
  }

  /** Whether `identity` has less than a third of its lifetime left (or none). */
  function due(row: { not_before: Date; not_after: Date } | undefined): boolean {
    if (!row) return true;
    const life = row.not_after.getTime() - row.not_before.getTime();
    return row.not_after.getTime() - deps.clock.now().getTime() < life / 3;
  }

  async function issue(issuer: IssuerRow): Promise<void> {
    const algorithm = responderAlgorithm(issuer.algorithm);
    const key = await deps.custody.generate({
      id: `key-ocsp-${randomBytes(5).toString("hex")}`,
      algorithm,
      label: `${issuer.id} ocsp responder`,
      purpose: responderPurpose,
      // Kept where its CA's key is: a delegated responder speaks for the CA (in an HSM if the CA is).
      store: await keyStoreOfIssuer(deps.issuers, issuer),
      extractable: false,
    });
    try {
      await deps.issuance.issueForOwnKey({
        spki: key.publicKey,
        keyAlgorithm: algorithm,
        subject: [{ type: "CN", value: `OCSP Responder ${issuer.id}` }],
        sans: [],
        profile: profiles["ocsp-responder"].name,
        // The key becomes active with the certificate that establishes it, or not at all.
        recordWith: (tx) => deps.custody.activate(tx, key),
      });
    } catch (e) {
      await deps.custody.discard([key]).catch(() => undefined); // else the sweeper destroys it after the grace
      throw e;
    }
  }

  /** Destroys the responder keys (but `keep`) none of whose certificates is still valid. */
  async function retireExpired(keep: Uint8Array | undefined): Promise<void> {
    for (const key of await keys.active(responderPurpose)) {
      const hash = sha256(key.public_key);
      if (keep && Buffer.compare(hash, keep) === 0) continue;
      if (await rows.responderValidWithKey(hash, deps.clock.now())) continue;
      await keys.markDestroyed(key.id, deps.clock.now()); // the row first, as server-identity.ts does
      await deps.keyStore.destroy(keyRefOf(key));
    }
  }

  return {
    current,

    /** Makes the issuing CA a new responder when it is due; returns whether it made one. */
    async rotate(): Promise<boolean> {
      const issuer = await deps.issuers.current("intermediate");
      if (!issuer) return false;
      const newest = await rows.newestResponder(issuer.id);
      const made = due(newest && newest.status === "good" ? newest : undefined);
      if (made) await issue(issuer);
      await retireExpired((await rows.newestResponder(issuer.id))?.public_key_sha256);
      return made;
    },
  };
}

export type OcspDelegates = ReturnType<typeof ocspDelegates>;

/** The CA's own algorithm when a service key may have it (crypto agility), P-256 otherwise. */
function responderAlgorithm(caAlgorithm: string): KeyAlgorithmId {
  const service = keyAlgorithmsFor("service");
  return (service as readonly string[]).includes(caAlgorithm) ? (caAlgorithm as KeyAlgorithmId) : "p256";
}
