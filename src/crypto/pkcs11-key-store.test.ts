import { execFile } from "node:child_process";
import { verify } from "node:crypto";
import { promisify } from "node:util";
import pkcs11js from "pkcs11js";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { softHsmToken, type SoftHsmToken } from "../../test/support/softhsm.js";
import { importPublicKey, keyAlgorithms, signatureAlgorithms, type KeyAlgorithmId } from "./algorithms.js";
import type { KeyRef } from "./key-store.js";
import { Pkcs11KeyStore } from "./pkcs11-key-store.js";
import { findTokenSlot, loadCryptoki } from "./pkcs11-module.js";
import { parsePkcs11Uri } from "./pkcs11-uri.js";

const exec = promisify(execFile);

let token: SoftHsmToken;
let stores: Pkcs11KeyStore[];

beforeEach(async () => {
  token = await softHsmToken();
  stores = [];
});

afterEach(async () => {
  for (const s of stores) s.close();
  await token.dispose();
});

async function open(pin = token.pin): Promise<Pkcs11KeyStore> {
  const store = await Pkcs11KeyStore.open({ module: token.module, token: token.token, pin });
  stores.push(store);
  return store;
}

const data = new TextEncoder().encode("certificationRequestInfo, say");

function verifies(ref: KeyRef, signature: Uint8Array): boolean {
  const alg = signatureAlgorithms[keyAlgorithms[ref.algorithm].signature];
  return verify(alg.hash, data, importPublicKey(ref.publicKey), signature);
}

/** Reads attributes of the private key with a session of the test's own, as any other caller could. */
function readPrivate(ref: KeyRef, types: number[]): pkcs11js.TemplateResult {
  const cryptoki = loadCryptoki(token.module);
  const session = cryptoki.cryptoki.C_OpenSession(
    findTokenSlot(cryptoki.cryptoki, token.token),
    pkcs11js.CKF_SERIAL_SESSION,
  );
  try {
    cryptoki.cryptoki.C_Login(session, pkcs11js.CKU_USER, token.pin);
  } catch {
    // already logged in through the store's sessions: the login is the application's
  }
  try {
    cryptoki.cryptoki.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: Buffer.from(parsePkcs11Uri(ref.uri).id!) },
    ]);
    const [key] = cryptoki.cryptoki.C_FindObjects(session, 1);
    cryptoki.cryptoki.C_FindObjectsFinal(session);
    return cryptoki.cryptoki.C_GetAttributeValue(
      session,
      key!,
      types.map((type) => ({ type })),
    );
  } finally {
    cryptoki.cryptoki.C_CloseSession(session);
    cryptoki.release();
  }
}

describe("PKCS#11 key store on SoftHSM2", () => {
  // Every registry algorithm SoftHSM 2.6 has: ECDSA (hashed on the host, CKM_ECDSA), EdDSA, RSA.
  test.each(["p256", "p384", "ed25519", "rsa2048"] as KeyAlgorithmId[])(
    "generates a %s key in the token whose signature node:crypto verifies",
    async (algorithm) => {
      const store = await open();
      const ref = await store.generate({
        algorithm: algorithm,
        label: "device-key",
        purpose: "test",
        store: "pkcs11",
        extractable: false,
      });
      expect(ref.uri).toMatch(/^pkcs11:token=keyfleet-test;object=device-key;id=(%[0-9a-f]{2}){16}$/);
      const signer = await store.signer(ref);
      expect(verifies(ref, await signer.sign(data))).toBe(true);
    },
  );

  test("the private key cannot be read out: CKA_VALUE is sensitive, the key not extractable", async () => {
    const store = await open();
    const ref = await store.generate({
      algorithm: "p256",
      label: "device-key",
      purpose: "test",
      store: "pkcs11",
      extractable: false,
    });
    expect(() => readPrivate(ref, [pkcs11js.CKA_VALUE])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    const [extractable] = readPrivate(ref, [pkcs11js.CKA_EXTRACTABLE]);
    expect(extractable!.value[0]).toBe(0);
    expect(await store.protection(ref)).toEqual({
      sensitive: true,
      extractable: false,
      alwaysSensitive: true,
      neverExtractable: true,
    });
  });

  test("pkcs11-tool, reading the token on its own, sees a sensitive, never-extractable key", async () => {
    const store = await open();
    const ref = await store.generate({
      algorithm: "p256",
      label: "device-key",
      purpose: "test",
      store: "pkcs11",
      extractable: false,
    });
    const { stdout } = await exec(
      "pkcs11-tool",
      [
        "--module",
        token.module,
        "--token-label",
        token.token,
        "--login",
        "--pin",
        token.pin,
        "--list-objects",
        "--type",
        "privkey",
      ],
      { env: { ...process.env, ...token.env } },
    );
    expect(stdout).toContain("label:      device-key");
    expect(stdout).toContain(`ID:         ${Buffer.from(parsePkcs11Uri(ref.uri).id!).toString("hex")}`);
    expect(stdout).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/);
  });

  test("finds the key again after a restart (library finalized and loaded again)", async () => {
    const first = await open();
    const ref = await first.generate({
      algorithm: "p256",
      label: "device-key",
      purpose: "test",
      store: "pkcs11",
      extractable: false,
    });
    first.close();
    stores = [];
    const second = await open();
    // Only what a KeyRef keeps (URI, algorithm, public key) finds it again: no object handle survives.
    const signer = await second.signer({ ...ref, publicKey: Uint8Array.from(ref.publicKey) });
    expect(verifies(ref, await signer.sign(data))).toBe(true);
  });

  test("signs concurrently on several sessions", async () => {
    const store = await Pkcs11KeyStore.open({
      module: token.module,
      token: token.token,
      pin: token.pin,
      maxSessions: 4,
    });
    stores.push(store);
    const refs = await Promise.all([
      store.generate({ algorithm: "p256", label: "a", purpose: "test", store: "pkcs11", extractable: false }),
      store.generate({
        algorithm: "ed25519",
        label: "b",
        purpose: "test",
        store: "pkcs11",
        extractable: false,
      }),
    ]);
    const signers = await Promise.all(refs.map((r) => store.signer(r)));
    const signatures = await Promise.all(Array.from({ length: 200 }, (_, i) => signers[i % 2]!.sign(data)));
    signatures.forEach((s, i) => expect(verifies(refs[i % 2]!, s)).toBe(true));
  });

  test("refuses a wrong PIN with key-store-locked", async () => {
    await expect(open("0000")).rejects.toMatchObject({ code: "key-store-locked" });
  });

  test("refuses an unknown token with invalid-configuration, naming the tokens there are", async () => {
    await expect(
      Pkcs11KeyStore.open({ module: token.module, token: "other", pin: token.pin }),
    ).rejects.toMatchObject({
      code: "invalid-configuration",
      message: expect.stringContaining('"keyfleet-test"'),
    });
  });

  test("a destroyed key is key-not-found, and a ref to another key's public key is refused", async () => {
    const store = await open();
    const [a, b] = [
      await store.generate({
        algorithm: "p256",
        label: "a",
        purpose: "test",
        store: "pkcs11",
        extractable: false,
      }),
      await store.generate({
        algorithm: "p256",
        label: "b",
        purpose: "test",
        store: "pkcs11",
        extractable: false,
      }),
    ];
    await expect(store.signer({ ...a, publicKey: b.publicKey })).rejects.toMatchObject({
      code: "key-not-found",
    });
    await store.destroy(a);
    await expect(store.signer(a)).rejects.toMatchObject({ code: "key-not-found" });
    expect(verifies(b, await (await store.signer(b)).sign(data))).toBe(true);
  });
});
