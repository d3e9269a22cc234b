import { describe, expect, test } from "vitest";
import { isKeyfleetError, type ErrorCode } from "../domain/index.js";
import { checkNames, profileByName, profiles, type Profile } from "./profiles.js";
import type { SanEntry } from "./san.js";

const DAY = 86_400;

function codeOf(f: () => unknown): ErrorCode | undefined {
  try {
    f();
  } catch (e) {
    if (isKeyfleetError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe("profiles", () => {
  test("say what each kind of certificate is", () => {
    expect(profiles["root-ca"]).toMatchObject({ ca: true, extendedKeyUsage: [] });
    expect(profiles["root-ca"].pathLength).toBeUndefined();
    expect(profiles["issuing-ca"]).toMatchObject({ ca: true, pathLength: 0, extendedKeyUsage: [] });
    expect(profiles["root-ca"].keyUsage).toEqual(expect.arrayContaining(["keyCertSign", "cRLSign"]));
    expect(profiles.device).toMatchObject({
      ca: false,
      extendedKeyUsage: ["1.3.6.1.5.5.7.3.2"],
      keyUsage: ["digitalSignature"],
    });
    expect(profiles["tls-server"]).toMatchObject({ ca: false, extendedKeyUsage: ["1.3.6.1.5.5.7.3.1"] });
    expect(profiles["ocsp-responder"]).toMatchObject({
      ca: false,
      extendedKeyUsage: ["1.3.6.1.5.5.7.3.9"],
      ocspNoCheck: true,
    });
    expect(profiles.device.allowedKeyAlgorithms).toEqual([
      "p256",
      "p384",
      "ed25519",
      "rsa2048",
      "rsa3072",
      "rsa4096",
    ]);
  });

  test("take RSA-2048 for device keys only; CA and service keys stay at 3072 bits or more", () => {
    for (const name of ["root-ca", "issuing-ca", "tls-server", "ocsp-responder"] as const) {
      expect(profiles[name].allowedKeyAlgorithms, name).toEqual([
        "p256",
        "p384",
        "ed25519",
        "rsa3072",
        "rsa4096",
      ]);
    }
    expect(profiles["tls-server"].keyRole).toBe("service");
    expect(profiles["issuing-ca"].keyRole).toBe("ca");
  });

  test("have the validity periods of the design", () => {
    const years = (p: Profile) => p.defaultValiditySeconds / (365 * DAY);
    expect(years(profiles["root-ca"])).toBe(20);
    expect(years(profiles["issuing-ca"])).toBe(10);
    expect(years(profiles.device)).toBe(1);
    expect(profiles.device.maxValiditySeconds).toBe(2 * 365 * DAY);
    expect(profiles["tls-server"]).toMatchObject({
      defaultValiditySeconds: 90 * DAY,
      maxValiditySeconds: 397 * DAY,
    });
    expect(profiles["ocsp-responder"]).toMatchObject({
      defaultValiditySeconds: 30 * DAY,
      maxValiditySeconds: 90 * DAY,
    });
    for (const p of Object.values(profiles))
      expect(p.defaultValiditySeconds).toBeLessThanOrEqual(p.maxValiditySeconds);
  });

  test("are found by name; an unknown name lists the known ones", () => {
    expect(profileByName("device")).toBe(profiles.device);
    let error: unknown;
    try {
      profileByName("toString");
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "unknown-profile")).toBe(true);
    expect(String(error)).toMatch(
      /unknown profile "toString"; use one of root-ca, issuing-ca, device, client, tls-server, ocsp-responder/,
    );
  });
});

describe("checkNames", () => {
  const cn = [{ type: "CN", value: "x" }] as const;
  const dns: SanEntry = { type: "dns", value: "a.example" };
  const ip: SanEntry = { type: "ip", value: "10.0.0.1" };
  const uri: SanEntry = { type: "uri", value: "urn:x:1" };
  const hmn: SanEntry = { type: "hardwareModuleName", hwType: "1.2.3.4", hwSerialNum: "01" };
  const email: SanEntry = { type: "email", value: "a@example.com" };

  test("device: URI, DNS and hardwareModuleName, no IP or email", () => {
    expect(codeOf(() => checkNames(cn, [uri, dns, hmn], profiles.device))).toBeUndefined();
    expect(codeOf(() => checkNames(cn, [], profiles.device))).toBeUndefined();
    expect(codeOf(() => checkNames(cn, [ip], profiles.device))).toBe("profile-violation");
    expect(codeOf(() => checkNames(cn, [email], profiles.device))).toBe("profile-violation");
  });

  test("tls-server: needs a DNS name or an IP address", () => {
    const host = [{ type: "CN", value: "A.example" }] as const;
    expect(codeOf(() => checkNames(host, [dns], profiles["tls-server"]))).toBeUndefined();
    expect(
      codeOf(() => checkNames([], [ip, { type: "ip", value: "::1" }], profiles["tls-server"])),
    ).toBeUndefined();
    expect(codeOf(() => checkNames(cn, [], profiles["tls-server"]))).toBe("profile-violation");
    expect(codeOf(() => checkNames(cn, [uri], profiles["tls-server"]))).toBe("profile-violation");
  });

  test("tls-server: a CN is one of the SANs (CA/Browser Forum BR §7.1.4.3)", () => {
    expect(() => checkNames(cn, [dns], profiles["tls-server"])).toThrow(/subject CN x must also be one/);
    expect(
      codeOf(() => checkNames([{ type: "CN", value: "10.0.0.1" }], [ip], profiles["tls-server"])),
    ).toBeUndefined();
  });

  test("a SAN given twice is refused", () => {
    expect(() => checkNames([], [dns, { type: "dns", value: "a.example" }], profiles.device)).toThrow(
      /given twice/,
    );
  });

  test("CA and responder profiles carry no SAN; a CA needs a subject", () => {
    for (const p of [profiles["root-ca"], profiles["issuing-ca"], profiles["ocsp-responder"]]) {
      expect(codeOf(() => checkNames(cn, [dns], p))).toBe("profile-violation");
      expect(codeOf(() => checkNames(cn, [], p))).toBeUndefined();
    }
    expect(codeOf(() => checkNames([], [], profiles["root-ca"]))).toBe("profile-violation");
  });

  test("an empty subject needs a SAN (RFC 5280 §4.1.2.6); bad SAN syntax is refused", () => {
    expect(codeOf(() => checkNames([], [], profiles.device))).toBe("profile-violation");
    expect(codeOf(() => checkNames([], [uri], profiles.device))).toBeUndefined();
    expect(codeOf(() => checkNames(cn, [{ type: "dns", value: "bad_name" }], profiles.device))).toBe(
      "profile-violation",
    );
    expect(codeOf(() => checkNames(cn, Array(17).fill(uri), profiles.device))).toBe("profile-violation");
  });
});
