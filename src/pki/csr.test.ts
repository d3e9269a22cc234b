import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isKeyfleetError, type ErrorCode } from "../domain/index.js";
import { checkCsr } from "./csr-check.js";
import { parseCsr } from "./csr.js";
import { profiles, type Profile } from "./profiles.js";
import { opensslCsrDer, workdir, type Workdir } from "../../test/support/openssl.js";

function codeOf(f: () => unknown): ErrorCode | string | undefined {
  try {
    f();
  } catch (e) {
    return isKeyfleetError(e) ? e.code : `not a KeyfleetError: ${String(e)}`;
  }
  return undefined;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("did not throw");
}

let dir: Workdir;
let good: Uint8Array;
beforeAll(async () => {
  dir = await workdir();
  good = await opensslCsrDer(dir, "p256", "/CN=device-001/serialNumber=SN001", [
    "-addext",
    "subjectAltName=URI:urn:keyfleet:device:dev-1,DNS:dev-1.fleet.example",
  ]);
});
afterAll(() => dir.dispose());

describe("parseCsr on openssl CSRs", () => {
  test.each(["p256", "p384", "ed25519", "rsa3072"] as const)(
    "accepts %s and reads its key algorithm",
    async (algorithm) => {
      const csr = parseCsr(await opensslCsrDer(dir, algorithm, "/C=DE/O=Acme/CN=sensor-7"));
      expect(csr.keyAlgorithm).toBe(algorithm);
      expect(csr.subject).toEqual([
        { type: "C", value: "DE" },
        { type: "O", value: "Acme" },
        { type: "CN", value: "sensor-7" },
      ]);
    },
  );

  test("reads subject, SANs and requested extensions", () => {
    const csr = parseCsr(good);
    expect(csr.subject).toEqual([
      { type: "CN", value: "device-001" },
      { type: "serialNumber", value: "SN001" },
    ]);
    expect(csr.sans).toEqual([
      { type: "uri", value: "urn:keyfleet:device:dev-1" },
      { type: "dns", value: "dev-1.fleet.example" },
    ]);
    expect(csr.requestedExtensions).toEqual([{ oid: "2.5.29.17", critical: false }]);
    expect(csr.requestsCa).toBe(false);
    expect(csr.challengePassword).toBeUndefined();
    expect(csr.der).toEqual(good);
    expect(() => checkCsr(csr, profiles.device)).not.toThrow();
  });

  test("reads a hardwareModuleName otherName (IEEE 802.1AR)", async () => {
    const config = await dir.write(
      "hmn.cnf",
      "[req]\ndistinguished_name=dn\n[dn]\n[hmn]\nhwType=OID:1.3.6.1.4.1.99999.1\nhwSerialNum=FORMAT:HEX,OCTETSTRING:0102AABB\n",
    );
    const der = await opensslCsrDer(dir, "p256", "/CN=d", [
      "-config",
      config,
      "-addext",
      "subjectAltName=otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hmn",
    ]);
    expect(parseCsr(der).sans).toEqual([
      { type: "hardwareModuleName", hwType: "1.3.6.1.4.1.99999.1", hwSerialNum: "0102AABB" },
    ]);
  });
});

describe("parseCsr refuses bad input", () => {
  test("every truncation, with malformed-request", () => {
    for (let n = 0; n < good.length; n++)
      expect(
        codeOf(() => parseCsr(good.subarray(0, n))),
        `length ${n}`,
      ).toBe("malformed-request");
    expect(errorOf(() => parseCsr(good.subarray(0, good.length - 1))).message).toMatch(/truncated/);
  });

  test("trailing garbage and empty input, with malformed-request", () => {
    expect(errorOf(() => parseCsr(Uint8Array.from([...good, 0]))).message).toMatch(/1 trailing bytes/);
    expect(codeOf(() => parseCsr(new Uint8Array(0)))).toBe("malformed-request");
  });

  test("random bytes, always with a KeyfleetError (malformed-request)", () => {
    for (let i = 0; i < 500; i++) {
      const junk = randomBytes(1 + (i % 300));
      if (i % 2) junk[0] = 0x30;
      expect(codeOf(() => parseCsr(junk))).toBe("malformed-request");
    }
  });

  test("a flipped bit in the signature or in the signed body, with bad-signature", () => {
    const sig = good.slice();
    sig[sig.length - 1]! ^= 0x01;
    expect(codeOf(() => parseCsr(sig))).toBe("bad-signature");
    expect(errorOf(() => parseCsr(sig)).message).toBe(
      "the CSR's signature does not verify with its own public key",
    );
    const body = good.slice();
    body[Buffer.from(body).indexOf("device-001")]! ^= 0x01; // "device" → "eevice"
    expect(codeOf(() => parseCsr(body))).toBe("bad-signature");
  });

  test("a public key that is not on its curve, with weak-key", () => {
    const bad = good.slice();
    const spkiPoint = Buffer.from(bad).indexOf(Buffer.from("034200", "hex")) + 3; // BIT STRING of 66 octets, then 04‖X‖Y
    bad[spkiPoint + 64]! ^= 0x01;
    expect(errorOf(() => parseCsr(bad)).message).toMatch(/not a point on its curve/);
    expect(codeOf(() => parseCsr(bad))).toBe("weak-key");
  });

  test.each([
    ["p521", /ECDSA P-521/],
    ["rsa1024", /RSA-1024/],
  ] as const)("a %s key, with unsupported-algorithm naming it", async (algorithm, name) => {
    const der = await opensslCsrDer(dir, algorithm);
    expect(codeOf(() => parseCsr(der))).toBe("unsupported-algorithm");
    expect(errorOf(() => parseCsr(der)).message).toMatch(name);
  });

  test("an RSASSA-PSS signature, with unsupported-algorithm", async () => {
    const der = await opensslCsrDer(dir, "rsa3072", "/CN=pss", ["-sigopt", "rsa_padding_mode:pss"]);
    expect(errorOf(() => parseCsr(der)).message).toMatch(/RSASSA-PSS/);
    expect(codeOf(() => parseCsr(der))).toBe("unsupported-algorithm");
  });

  test("subject attributes Keyfleet does not issue, with profile-violation naming the OID", async () => {
    const der = await opensslCsrDer(dir, "p256", "/CN=x/street=Main Street 1");
    expect(codeOf(() => parseCsr(der))).toBe("profile-violation");
    expect(errorOf(() => parseCsr(der)).message).toMatch(/2\.5\.4\.9/);
  });
});

describe("checkCsr", () => {
  const check = (der: Uint8Array, profile: Profile) => codeOf(() => checkCsr(parseCsr(der), profile));

  test("refuses a CA request on an end-entity profile (forbidden-extension)", async () => {
    const ca = await opensslCsrDer(dir, "p256", "/CN=rogue", [
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ]);
    expect(parseCsr(ca).requestsCa).toBe(true);
    expect(check(ca, profiles.device)).toBe("forbidden-extension");
    expect(check(ca, profiles["issuing-ca"])).toBeUndefined();
    const certSign = await opensslCsrDer(dir, "p256", "/CN=rogue", [
      "-addext",
      "keyUsage=critical,digitalSignature,keyCertSign",
    ]);
    expect(check(certSign, profiles.device)).toBe("forbidden-extension");
    const caFalse = await opensslCsrDer(dir, "p256", "/CN=ok", [
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature",
    ]);
    expect(check(caFalse, profiles.device)).toBeUndefined();
  });

  test("refuses an unknown critical extension (forbidden-extension) but ignores a non-critical one", async () => {
    const critical = await opensslCsrDer(dir, "p256", "/CN=x", [
      "-addext",
      "1.3.6.1.4.1.99999.7=critical,DER:0500",
    ]);
    expect(parseCsr(critical).requestedExtensions).toEqual([{ oid: "1.3.6.1.4.1.99999.7", critical: true }]);
    expect(check(critical, profiles.device)).toBe("forbidden-extension");
    const nonCritical = await opensslCsrDer(dir, "p256", "/CN=x", [
      "-addext",
      "1.3.6.1.4.1.99999.7=DER:0500",
    ]);
    expect(check(nonCritical, profiles.device)).toBeUndefined();
  });

  test("refuses a key algorithm outside the profile (unsupported-algorithm)", () => {
    expect(check(good, { ...profiles.device, allowedKeyAlgorithms: ["ed25519"] })).toBe(
      "unsupported-algorithm",
    );
  });

  test("takes an RSA-2048 key (TPM, secure element) for a device, and for no service or CA", async () => {
    const der = await opensslCsrDer(dir, "rsa2048", "/CN=tpm-device", [
      "-addext",
      "subjectAltName=DNS:tpm-device.example",
    ]);
    expect(parseCsr(der).keyAlgorithm).toBe("rsa2048");
    expect(check(der, profiles.device)).toBeUndefined();
    for (const profile of [profiles["tls-server"], profiles["ocsp-responder"], profiles["issuing-ca"]]) {
      expect(check(der, profile)).toBe("unsupported-algorithm");
    }
    expect(errorOf(() => checkCsr(parseCsr(der), profiles["tls-server"])).message).toBe(
      'profile "tls-server" does not accept RSA-2048 keys (RSA-2048 is for device keys only); use ECDSA P-256, ECDSA P-384, Ed25519, RSA-3072, RSA-4096',
    );
  });

  test("applies the profile's SAN rules (profile-violation)", async () => {
    const ip = await opensslCsrDer(dir, "p256", "/CN=10.1.2.3", ["-addext", "subjectAltName=IP:10.1.2.3"]);
    expect(check(ip, profiles.device)).toBe("profile-violation");
    expect(check(ip, profiles["tls-server"])).toBeUndefined();
    expect(check(good, profiles["tls-server"])).toBe("profile-violation"); // URI not allowed
    const noSan = await opensslCsrDer(dir, "p256", "/CN=host.example");
    expect(check(noSan, profiles["tls-server"])).toBe("profile-violation");
    const empty = await opensslCsrDer(dir, "p256", "/", []);
    expect(check(empty, profiles.device)).toBe("profile-violation");
  });

  test("refuses subject values the profile cannot carry (profile-violation)", async () => {
    const der = await opensslCsrDer(dir, "p256", "/C=de/CN=x");
    expect(check(der, profiles.device)).toBe("profile-violation");
  });
});
