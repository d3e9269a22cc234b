import { generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import { keyAlgorithmFor, keyAlgorithmOfKey, keyAlgorithmsFor, rsaKeyAlgorithm } from "./algorithms.js";

describe("key roles in the algorithm registry", () => {
  test("RSA-2048 is a device key only; CA and service keys are 3072 bits or more", () => {
    expect(keyAlgorithmsFor("device")).toEqual(["p256", "p384", "ed25519", "rsa2048", "rsa3072", "rsa4096"]);
    for (const role of ["ca", "service"] as const) {
      expect(keyAlgorithmsFor(role)).toEqual(["p256", "p384", "ed25519", "rsa3072", "rsa4096"]);
    }
    expect(keyAlgorithmFor("rsa2048", "device").modulusLength).toBe(2048);
    expect(keyAlgorithmFor("rsa3072", "ca").id).toBe("rsa3072");
  });

  test("refuses RSA-2048 for a CA with unsupported-algorithm, saying what it is for and what to use", () => {
    expect(() => keyAlgorithmFor("rsa2048", "ca")).toThrow(
      expect.objectContaining({
        code: "unsupported-algorithm",
        message: "RSA-2048 is for device keys only; CA keys use one of p256, p384, ed25519, rsa3072, rsa4096",
      }),
    );
    expect(() => keyAlgorithmFor("rsa1024", "device")).toThrow(
      expect.objectContaining({ code: "unsupported-algorithm", message: expect.stringMatching(/unknown/) }),
    );
  });

  test("names RSA keys by modulus size from the registry", () => {
    expect([1024, 2048, 3072, 4096, 8192].map(rsaKeyAlgorithm)).toEqual([
      undefined,
      "rsa2048",
      "rsa3072",
      "rsa4096",
      undefined,
    ]);
    expect(keyAlgorithmOfKey(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey)).toBe("rsa2048");
  });
});
