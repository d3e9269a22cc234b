/**
 * The HTTPS server's own identity: a P-256 key kept sealed in the key store like every other key
 * (recorded in `keys` with purpose tls-server), and a tls-server certificate from our issuing CA,
 * recorded like any other. A start reuses the newest certificate of that key while it is fit to
 * serve (renewal-rules.ts); otherwise, and when a running server's renewal falls due, a new key and
 * certificate are made and the older keys destroyed. The key leaves the store only as the credential
 * node:tls needs in process memory (TlsKeyStore says why; DESIGN §1.3: the API layer makes, stores
 * and signs with no key, it hands this to its TLS stack and nothing else).
 */
import { randomBytes } from "node:crypto";
import { hasTlsKeys, keyStoreKindOf, type KeyRef, type KeyStore, type TlsKeyStore } from "../crypto/index.js";
import { KeyfleetError, isKeyfleetError, type Clock } from "../domain/index.js";
import type { CertificateRepository, IssuerRepository, KeyRepository } from "../store/index.js";
import { certificateOf, type IssuedCertificate } from "./certificate.js";
import { sha256 } from "./hierarchy.js";
import type { Issuance } from "./issuance.js";
import { keyRefOf } from "./issuer-keys.js";
import { fitToServe, serverNames } from "./renewal-rules.js";

export interface ServerTlsIdentity {
  /** PKCS#8 PEM, for node:tls only: in memory, for the life of the process (and redacted in logs). */
  readonly privateKeyPem: string;
  /** The server certificate followed by the chain up to the root, PEM. */
  readonly certificateChainPem: string;
  /** The certificate's serial (hex) and validity: what renewal and logs go by. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ServerIdentityDeps {
  readonly keyStore: KeyStore;
  readonly keys: KeyRepository;
  readonly certificates: CertificateRepository;
  readonly issuers: IssuerRepository;
  readonly issuance: Issuance;
  readonly clock: Clock;
  /** The current issuing CA's chain, issuing CA first, root last. */
  readonly chainPem: () => Promise<string>;
}

type TlsStore = KeyStore & TlsKeyStore;

const PURPOSE = "tls-server";

export function serverIdentities(deps: ServerIdentityDeps) {
  async function fit(certificate: IssuedCertificate, hostnames: readonly string[]): Promise<boolean> {
    return fitToServe(certificate, {
      names: serverNames(hostnames).sans,
      issuerId: (await deps.issuers.current("intermediate"))?.id,
      now: deps.clock.now(),
    });
  }

  async function identity(privateKeyPem: string, certificate: IssuedCertificate): Promise<ServerTlsIdentity> {
    return {
      privateKeyPem,
      certificateChainPem: certificate.pem + (await deps.chainPem()),
      serial: certificate.serial,
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
    };
  }

  /** The newest key with its newest certificate, if that certificate is still fit to serve. */
  async function reusable(store: TlsStore, hostnames: readonly string[]) {
    const [key] = await deps.keys.active(PURPOSE);
    if (!key) return undefined;
    const row = await deps.certificates.newestTlsServer(sha256(key.public_key));
    const certificate = row && certificateOf(row);
    if (!certificate || !(await fit(certificate, hostnames))) return undefined;
    try {
      return await identity(await store.unsealTlsKey(keyRefOf(key)), certificate);
    } catch (e) {
      if (isKeyfleetError(e, "key-not-found")) return undefined; // its sealed copy is gone: make a new one
      throw e;
    }
  }

  /**
   * A new key, recorded before it is used, and its certificate; then the keys older than it are
   * destroyed. Nodes starting together each make one: the key is unsealed into memory at once, and
   * a node destroys only older keys, so no node loses the key it is about to serve with.
   */
  async function renew(store: TlsStore, hostnames: readonly string[]): Promise<ServerTlsIdentity> {
    const { subject, sans } = serverNames(hostnames);
    const ref = await store.generateTlsKey("p256", PURPOSE);
    const privateKeyPem = await store.unsealTlsKey(ref);
    const id = `key-tls-${randomBytes(5).toString("hex")}`;
    await deps.keys.insert({
      id,
      algorithm: ref.algorithm,
      store: keyStoreKindOf(ref.uri),
      uri: ref.uri,
      public_key: ref.publicKey,
      purpose: PURPOSE,
    });
    let certificate: IssuedCertificate;
    try {
      certificate = await deps.issuance.issueForOwnKey({
        spki: ref.publicKey,
        keyAlgorithm: ref.algorithm,
        subject,
        sans,
        profile: "tls-server",
      });
    } catch (e) {
      // No certificate (a host name the profile refuses, the CA key locked): the key serves nothing.
      await destroy(store, id, ref);
      throw e;
    }
    // Another node still serving with an older key keeps it in memory until its own renewal.
    const active = await deps.keys.active(PURPOSE); // newest first
    const mine = active.findIndex((k) => k.id === id);
    for (const old of mine < 0 ? [] : active.slice(mine + 1)) await destroy(store, old.id, keyRefOf(old));
    return identity(privateKeyPem, certificate);
  }

  async function destroy(store: KeyStore, id: string, ref: KeyRef): Promise<void> {
    // The row first: a crash in between leaves an orphaned ciphertext, never an active row without its key.
    await deps.keys.markDestroyed(id, deps.clock.now());
    await store.destroy(ref);
  }

  async function current(hostnames: readonly string[]): Promise<ServerTlsIdentity> {
    const store = tlsKeyStore(deps.keyStore);
    return (await reusable(store, hostnames)) ?? renew(store, hostnames);
  }

  return {
    /** At start: the recorded identity while it is fit to serve `hostnames`, else a new one. */
    current,

    /**
     * While serving: undefined while `served` is still fit; otherwise the identity to switch to,
     * which is a fresh one another node already made for the same names, or a new one.
     */
    async renewIfDue(
      served: ServerTlsIdentity,
      hostnames: readonly string[],
    ): Promise<ServerTlsIdentity | undefined> {
      const row = await deps.certificates.bySerial(served.serial);
      if (row && (await fit(certificateOf(row), hostnames))) return undefined;
      return current(hostnames);
    },
  };
}

export type ServerIdentities = ReturnType<typeof serverIdentities>;

function tlsKeyStore(store: KeyStore): TlsStore {
  if (!hasTlsKeys(store)) {
    throw new KeyfleetError(
      "invalid-configuration",
      "the key store cannot hold a TLS key in process memory, which node:tls needs",
    );
  }
  return store;
}
