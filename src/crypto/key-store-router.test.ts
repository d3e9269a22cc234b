import { randomBytes, verify } from "node:crypto";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { softHsmToken, type SoftHsmToken } from "../../test/support/softhsm.js";
import { importPublicKey } from "./algorithms.js";
import type { KeySpec, KeyStoreKind } from "./key-store.js";
import { KeyStoreRouter, keyStoreKindOf } from "./key-store-router.js";
import { Pkcs11KeyStore } from "./pkcs11-key-store.js";
import { SoftwareKeyStore, type SealedKey, type SealedKeyVault } from "./software-key-store.js";

/** A vault over a Map: the router's dispatch is under test, not storage (the database vault is tested in store). */
function mapVault(): SealedKeyVault {
  const entries = new Map<string, SealedKey>();
  return {
    put: async (k) => void entries.set(k.handle, k),
    get: async (h) => entries.get(h),
    delete: async (h) => void entries.delete(h),
    rewrapAll: () => Promise.reject(new Error("not used here")),
  };
}

const spec = (store: KeyStoreKind, purpose = "ca"): KeySpec => ({
  algorithm: "p256",
  label: `${purpose} key`,
  purpose,
  store,
  extractable: false,
});
const data = new TextEncoder().encode("a TBSCertificate, say");

let token: SoftHsmToken;
let hsm: Pkcs11KeyStore;
let software: SoftwareKeyStore;
beforeEach(async () => {
  token = await softHsmToken();
  hsm = await Pkcs11KeyStore.open({ module: token.module, token: token.token, pin: token.pin });
  software = new SoftwareKeyStore(mapVault(), { source: "file", key: randomBytes(32) });
});
afterEach(async () => {
  hsm.close();
  await token.dispose();
});

describe("the key-store router", () => {
  test("generates each key in the store its spec names, and signs with it by its URI's scheme", async () => {
    const router = new KeyStoreRouter(software, [hsm]);
    expect(router.kinds).toEqual(["software", "pkcs11"]);
    const inToken = await router.generate(spec("pkcs11"));
    const sealed = await router.generate(spec("software", "audit"));
    expect(inToken.uri).toMatch(/^pkcs11:token=keyfleet-test;object=ca%20key;id=/);
    expect(sealed.uri).toMatch(/^keyfleet-sealed:[0-9a-f-]{36}$/);
    expect([keyStoreKindOf(inToken.uri), keyStoreKindOf(sealed.uri)]).toEqual(["pkcs11", "software"]);
    for (const ref of [inToken, sealed]) {
      const signature = await (await router.signer(ref)).sign(data);
      expect(verify("sha256", data, importPublicKey(ref.publicKey), signature)).toBe(true);
    }
    // Each store knows only its own keys: the router never hands a URI to the wrong one.
    await expect(hsm.signer(sealed)).rejects.toThrow();
    await expect(software.signer(inToken)).rejects.toMatchObject({ code: "key-not-found" });
    await router.destroy(inToken);
    await expect(router.signer(inToken)).rejects.toMatchObject({ code: "key-not-found" });
  });

  test("refuses a key whose store is not configured, naming the settings that configure it", async () => {
    const inToken = await new KeyStoreRouter(software, [hsm]).generate(spec("pkcs11"));
    const softwareOnly = new KeyStoreRouter(software);
    expect(softwareOnly.kinds).toEqual(["software"]);
    for (const attempt of [() => softwareOnly.signer(inToken), () => softwareOnly.generate(spec("pkcs11"))]) {
      await expect(attempt()).rejects.toMatchObject({
        code: "invalid-configuration",
        message: expect.stringContaining(
          "needs the PKCS#11 token, which is not configured: set KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN and KEYFLEET_PKCS11_PIN (or KEYFLEET_PKCS11_PIN_FILE)",
        ),
      });
    }
  });

  test("refuses a URI of no store Keyfleet has", async () => {
    const router = new KeyStoreRouter(software, [hsm]);
    for (const uri of ["file:///etc/key.pem", "no scheme at all", "keyfleet-file:x.p8"]) {
      await expect(
        router.signer({ uri, algorithm: "p256", publicKey: new Uint8Array() }),
      ).rejects.toMatchObject({
        code: "invalid-configuration",
        message: expect.stringContaining("names no key store Keyfleet has (keyfleet-sealed:, pkcs11:)"),
      });
    }
  });

  test("TLS keys stay in the software store: a token key is never unsealed for node:tls", async () => {
    const router = new KeyStoreRouter(software, [hsm]);
    const tls = await router.generateTlsKey("p256", "tls-server");
    expect(tls.uri).toMatch(/^keyfleet-sealed:/);
    expect(await router.unsealTlsKey(tls)).toContain("BEGIN PRIVATE KEY");
    const inToken = await router.generate(spec("pkcs11"));
    await expect(router.unsealTlsKey(inToken)).rejects.toMatchObject({ code: "invalid-configuration" });
    // Nor is a signing key of the software store (its seal says what it may open as).
    await expect(router.unsealTlsKey(await router.generate(spec("software")))).rejects.toMatchObject({
      code: "key-store-locked",
    });
  });
});
