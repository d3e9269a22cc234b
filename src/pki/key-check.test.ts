/**
 * The key check, on its own (checkSubjectPublicKeyInfo, what IDevID parsing will call) and as the
 * first thing parseCsr does: keys that need no private key are refused with `weak-key`, and the
 * "signatures" made for them from public data, which OpenSSL verifies, never reach issuance.
 */
import { createECDH, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import {
  buildCsr,
  ecSpki,
  ed25519Spki,
  exponentOneCsr,
  rsaSpki,
  signedCsr,
  smallOrderEd25519Csr,
} from "./test-csr.js";
import { parseCsr } from "./csr.js";
import { readOnly, children, value } from "./der-reader.js";
import { bitString, derNull, oid, sequence } from "./der.js";
import { checkSubjectPublicKeyInfo } from "./key-check.js";
import { oid as oids } from "./oids.js";

function refusal(f: () => unknown): { code: string; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isKeyfleetError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ""), "hex"));
const spkiOf = (key: KeyObject): Uint8Array => new Uint8Array(key.export({ format: "der", type: "spki" }));

let rsa: { publicKey: KeyObject; privateKey: KeyObject };
let modulus: Uint8Array;
beforeAll(() => {
  rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  modulus = Uint8Array.from(Buffer.from(rsa.publicKey.export({ format: "jwk" }).n!, "base64url"));
});

const identity = hex("01".padEnd(64, "0"));
const order8 = hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
const order2 = hex("ec".padEnd(62, "f") + "7f");

describe("checkSubjectPublicKeyInfo", () => {
  test("accepts the keys openssl and node:crypto make, for every registry algorithm", () => {
    for (const [type, options, id] of [
      ["ec", { namedCurve: "P-256" }, "p256"],
      ["ec", { namedCurve: "P-384" }, "p384"],
      ["ed25519", {}, "ed25519"],
      ["rsa", { modulusLength: 3072 }, "rsa3072"],
    ] as const) {
      const { publicKey } = generateKeyPairSync(type as "ec", options as { namedCurve: string });
      expect(checkSubjectPublicKeyInfo(spkiOf(publicKey), "the key")).toBe(id);
    }
    expect(checkSubjectPublicKeyInfo(spkiOf(rsa.publicKey), "the key")).toBe("rsa2048");
  });

  test("refuses degenerate keys with weak-key and the rule they break", () => {
    const cases: [Uint8Array, RegExp][] = [
      [rsaSpki(modulus, Uint8Array.of(1)), /exponent 1 is below 65537.*anyone can make signatures/],
      [rsaSpki(modulus, Uint8Array.of(3)), /exponent 3 is below 65537/],
      [rsaSpki(Uint8Array.from([...modulus.subarray(0, -1), modulus.at(-1)! ^ 1]), hex("010001")), /even/],
      [ed25519Spki(identity), /small order/],
      [ed25519Spki(order8), /small order/],
      [ed25519Spki(order2), /small order/],
      [ecSpki("P-256", Uint8Array.of(0)), /point at infinity/],
      [ecSpki("P-256", compressedPoint()), /compressed/],
    ];
    for (const [spki, message] of cases) {
      expect(refusal(() => checkSubjectPublicKeyInfo(spki, "the key"))).toEqual({
        code: "weak-key",
        message: expect.stringMatching(new RegExp(`^the key: .*${message.source}`)),
      });
    }
  });

  test("refuses non-minimal and negative RSA INTEGERs as malformed DER, before reading the numbers", () => {
    const wrap = (rsaPublicKey: string): Uint8Array => {
      const key = hex(rsaPublicKey);
      return rsaSpkiAround(key);
    };
    expect(refusal(() => checkSubjectPublicKeyInfo(wrap("3008 0203 000001 0201 03"), "k"))).toEqual({
      code: "malformed-request",
      message: "k: INTEGER is not minimally encoded",
    });
    expect(refusal(() => checkSubjectPublicKeyInfo(wrap("3007 0202 ff01 0201 03"), "k"))).toEqual({
      code: "malformed-request",
      message: "k: INTEGER is negative",
    });
    expect(refusal(() => checkSubjectPublicKeyInfo(wrap("3008 0201 03 0203 000003"), "k"))?.message).toBe(
      "k: INTEGER is not minimally encoded",
    );
  });

  test("leaves size and algorithm to the registry (unsupported-algorithm)", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-521" });
    expect(refusal(() => checkSubjectPublicKeyInfo(spkiOf(publicKey), "k"))?.code).toBe(
      "unsupported-algorithm",
    );
    expect(
      refusal(() => checkSubjectPublicKeyInfo(rsaSpki(modulus.subarray(1), hex("010001")), "k"))?.message,
    ).toMatch(/RSA-20[34]\d, which Keyfleet does not support/);
  });
});

describe("parseCsr checks the key before anything else", () => {
  test("an RSA key with e = 1: the forged self-signature verifies in OpenSSL, and parseCsr refuses the key", () => {
    const csr = exponentOneCsr(modulus);
    const [info, , signature] = children(readOnly(csr, 0x30, "csr"), "csr");
    const key = createPublicKey({
      key: Buffer.from(rsaSpki(modulus, Uint8Array.of(1))),
      format: "der",
      type: "spki",
    });
    expect(verify("sha256", csr.subarray(info!.start, info!.end), key, value(signature!).subarray(1))).toBe(
      true,
    );
    expect(refusal(() => parseCsr(csr))).toEqual({
      code: "weak-key",
      message:
        "the CSR's public key: the RSA public exponent 1 is below 65537 (FIPS 186-5 §A.1.1), so anyone can make signatures for it",
    });
  });

  test.each([
    ["the identity", identity],
    ["a point of order 2", order2],
    ["a point of order 8", order8],
  ])(
    "an Ed25519 key that is %s: the forged signature verifies in OpenSSL, and parseCsr refuses the key",
    (_, point) => {
      const csr = smallOrderEd25519Csr(point);
      const [info, , signature] = children(readOnly(csr, 0x30, "csr"), "csr");
      const key = createPublicKey({ key: Buffer.from(ed25519Spki(point)), format: "der", type: "spki" });
      expect(verify(null, csr.subarray(info!.start, info!.end), key, value(signature!).subarray(1))).toBe(
        true,
      );
      expect(refusal(() => parseCsr(csr))).toEqual({
        code: "weak-key",
        message:
          "the CSR's public key: the Ed25519 key is a point of small order, so anyone can make signatures for it",
      });
    },
  );

  test("a P-256 key sent compressed or hybrid, signed with its real private key, is refused (weak-key)", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const x = Buffer.from(jwk.x!, "base64url");
    const y = Buffer.from(jwk.y!, "base64url");
    const compressed = Uint8Array.from([2 | (y.at(-1)! & 1), ...x]);
    const hybrid = Uint8Array.from([6 | (y.at(-1)! & 1), ...x, ...y]);
    for (const [point, message] of [
      [compressed, /compressed point.*send the uncompressed form/],
      [hybrid, /hybrid form/],
    ] as const) {
      const csr = signedCsr(privateKey, "ecdsa-sha256", { spki: ecSpki("P-256", point) });
      expect(refusal(() => parseCsr(csr))).toEqual({
        code: "weak-key",
        message: expect.stringMatching(message),
      });
    }
    // The same key uncompressed is fine.
    expect(parseCsr(signedCsr(privateKey, "ecdsa-sha256", { spki: spkiOf(publicKey) })).keyAlgorithm).toBe(
      "p256",
    );
  });

  test("the key is checked before the subject, the attributes and the signature are read", () => {
    const csr = buildCsr({
      subject: Uint8Array.of(0x30, 0x03, 0x31, 0x01, 0x00), // does not parse
      spki: ed25519Spki(identity),
      attributes: [Uint8Array.of(0x05, 0x00)], // nor does this
      signatureAlgorithm: "ed25519",
      sign: () => new Uint8Array(64), // nor does this verify
    });
    expect(refusal(() => parseCsr(csr))?.code).toBe("weak-key");
  });
});

function compressedPoint(): Uint8Array {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return new Uint8Array(ecdh.getPublicKey(null, "compressed"));
}

/** SubjectPublicKeyInfo { rsaEncryption NULL, BIT STRING { `rsaPublicKey` } }, the DER as given. */
function rsaSpkiAround(rsaPublicKey: Uint8Array): Uint8Array {
  return sequence(sequence(oid(oids.rsaEncryption), derNull), bitString(rsaPublicKey));
}
