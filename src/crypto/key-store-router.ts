/**
 * The one KeyStore the authority sees (DESIGN §6): it holds the configured stores (the software
 * store always; a PKCS#11 token when one is configured) and sends each call to the store a key
 * belongs to, by its URI's scheme, or, for a new key, by its KeySpec. So the root, the issuing
 * CAs, the OCSP responder and the audit log may each keep keys in a different store. TLS keys stay
 * in the software store: node:tls needs them in memory (TlsKeyStore).
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import type { KeyAlgorithmId } from "./algorithms.js";
import {
  schemeOf,
  type KeyRef,
  type KeySpec,
  type KeyStore,
  type KeyStoreAdapter,
  type KeyStoreKind,
  type Signer,
  type TlsKeyStore,
} from "./key-store.js";

/** Each kind of store, the scheme of its keys' URIs and what configures it. */
const known: Readonly<Record<KeyStoreKind, { scheme: string; configure: string }>> = {
  software: { scheme: "keyfleet-sealed", configure: "KEYFLEET_PASSPHRASE (or the development KEK file)" },
  pkcs11: {
    scheme: "pkcs11",
    configure:
      "KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN and KEYFLEET_PKCS11_PIN (or KEYFLEET_PKCS11_PIN_FILE)",
  },
};

const kinds = Object.keys(known) as KeyStoreKind[];

/** The kind of store a key URI names, by its scheme; `invalid-configuration` for any other URI. */
export function keyStoreKindOf(uri: string): KeyStoreKind {
  const scheme = schemeOf(uri);
  const kind = kinds.find((k) => known[k].scheme === scheme);
  if (!kind) {
    throw new KeyfleetError(
      "invalid-configuration",
      `the key reference ${quoted(uri, 200)} names no key store Keyfleet has (${kinds.map((k) => `${known[k].scheme}:`).join(", ")})`,
    );
  }
  return kind;
}

/** `what` needs a store of `kind` that this process is not configured with; the error says how to configure it. */
export function keyStoreNotConfigured(kind: KeyStoreKind, what: string): KeyfleetError {
  return new KeyfleetError(
    "invalid-configuration",
    `${what} needs the ${kind === "pkcs11" ? "PKCS#11 token" : `${kind} key store`}, which is not configured: set ${known[kind].configure}`,
  );
}

export class KeyStoreRouter implements KeyStore, TlsKeyStore {
  readonly #stores = new Map<KeyStoreKind, KeyStoreAdapter>();

  constructor(
    private readonly tls: KeyStoreAdapter & TlsKeyStore,
    others: readonly KeyStoreAdapter[] = [],
  ) {
    for (const store of [tls, ...others]) {
      if (known[store.kind].scheme !== store.scheme || this.#stores.has(store.kind)) {
        throw new KeyfleetError("internal", `the ${store.kind} key store is configured twice or misnamed`);
      }
      this.#stores.set(store.kind, store);
    }
  }

  /** The kinds of store configured in this process. */
  get kinds(): KeyStoreKind[] {
    return [...this.#stores.keys()];
  }

  has(kind: KeyStoreKind): boolean {
    return this.#stores.has(kind);
  }

  /** The configured store of `kind`; refused, naming the settings that configure it, when there is none. */
  store(kind: KeyStoreKind, what = `a ${kind} key`): KeyStoreAdapter {
    const store = this.#stores.get(kind);
    if (!store) throw keyStoreNotConfigured(kind, what);
    return store;
  }

  /** The store holding the key `uri` names; refused when no configured store handles it. */
  route(uri: string): KeyStoreAdapter {
    return this.store(keyStoreKindOf(uri), `the key ${quoted(uri, 200)}`);
  }

  async generate(spec: KeySpec): Promise<KeyRef> {
    return this.store(spec.store, `generating a ${spec.purpose} key`).generate(spec);
  }

  async signer(ref: KeyRef): Promise<Signer> {
    return this.route(ref.uri).signer(ref);
  }

  async destroy(ref: KeyRef): Promise<void> {
    return this.route(ref.uri).destroy(ref);
  }

  async check(): Promise<void> {
    for (const store of this.#stores.values()) await store.check();
  }

  async generateTlsKey(algorithm: KeyAlgorithmId, label: string): Promise<KeyRef> {
    return this.tls.generateTlsKey(algorithm, label);
  }

  async unsealTlsKey(ref: KeyRef): Promise<string> {
    if (keyStoreKindOf(ref.uri) !== this.tls.kind) {
      throw new KeyfleetError(
        "invalid-configuration",
        `the key ${quoted(ref.uri, 200)} cannot serve node:tls: only a ${this.tls.kind} key can be held in memory`,
      );
    }
    return this.tls.unsealTlsKey(ref);
  }
}
