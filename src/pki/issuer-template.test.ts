import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { isKeyfleetError, type ErrorCode } from "../domain/index.js";
import { writeCertificate, type CertificateOrder } from "./certificate-writer.js";
import { compileIssuer, compileSelfIssuer } from "./issuer-template.js";
import { encodeName } from "./name.js";
import { profiles, type Profile } from "./profiles.js";
import { newSerial } from "./serial.js";
import { issuingUrls, testChain, type TestChain } from "./test-chain.js";
import { testSigner, type TestKey } from "./test-signer.js";

const notBefore = new Date("2026-01-01T00:00:00Z");
const validity = {
  notBefore,
  rootNotAfter: new Date("2045-01-01T00:00:00Z"),
  issuingNotAfter: new Date("2035-01-01T00:00:00Z"),
};

async function codeOf(f: () => unknown): Promise<ErrorCode | string | undefined> {
  try {
    await f();
  } catch (e) {
    return isKeyfleetError(e) ? e.code : `not a KeyfleetError: ${String(e)}`;
  }
  return undefined;
}

let chain: TestChain;
let leaf: TestKey;
beforeAll(async () => {
  chain = await testChain("p256", validity);
  leaf = await testSigner("p256");
});

const order = (overrides: Partial<CertificateOrder> = {}): CertificateOrder => ({
  serial: newSerial(),
  subject: [{ type: "CN", value: "device-1" }],
  sans: [],
  subjectPublicKeyInfo: leaf.signer.publicKey,
  notBefore,
  notAfter: new Date("2026-06-01T00:00:00Z"),
  profile: profiles.device,
  ...overrides,
});

describe("compileIssuer", () => {
  test("takes the issuer name byte for byte, its SKI as AKI, its pathLen and notAfter from the certificate", () => {
    const t = chain.issuing.issuer;
    expect(Buffer.from(t.issuerName).toString("hex")).toBe(
      Buffer.from(encodeName(chain.issuing.subject)).toString("hex"),
    );
    expect(t.subject).toEqual(chain.issuing.subject);
    expect(t.pathLength).toBe(0);
    expect(t.notAfter.toISOString()).toBe(validity.issuingNotAfter.toISOString());
    expect(chain.root.issuer.pathLength).toBeUndefined();
    expect(Buffer.from(t.keyIdentifier)).toHaveLength(20);
  });

  test("refuses a signer whose key is not the certificate's", async () => {
    const other = await testSigner("p256");
    expect(await codeOf(() => compileIssuer({ certificate: chain.issuing.der, signer: other.signer }))).toBe(
      "invalid-configuration",
    );
  });

  test("refuses an end-entity certificate, garbage, and URLs that are not ASCII URIs", async () => {
    const ee = await writeCertificate(chain.issuing.issuer, order());
    expect(await codeOf(() => compileIssuer({ certificate: ee, signer: leaf.signer }))).toBe(
      "invalid-configuration",
    );
    expect(
      await codeOf(() => compileIssuer({ certificate: Uint8Array.of(1, 2, 3), signer: leaf.signer })),
    ).toBe("invalid-configuration");
    const urls = { ...issuingUrls, crl: "http://bad host/crl" };
    expect(
      await codeOf(() =>
        compileIssuer({ certificate: chain.issuing.der, signer: chain.issuing.key.signer, urls }),
      ),
    ).toBe("invalid-configuration");
  });

  test("without URLs writes no CRL distribution point or AIA", () => {
    const bare = compileIssuer({ certificate: chain.issuing.der, signer: chain.issuing.key.signer });
    expect(bare.urlExtensions).toHaveLength(0);
    expect(chain.issuing.issuer.urlExtensions.length).toBeGreaterThan(0);
  });
});

describe("writeCertificate refuses", () => {
  test("notAfter past the issuer's, beyond the profile's maximum, or not after notBefore (profile-violation)", async () => {
    const t = chain.issuing.issuer;
    expect(
      await codeOf(() =>
        writeCertificate(
          t,
          order({ notAfter: new Date("2035-01-01T00:00:01Z"), profile: profiles["issuing-ca"] }),
        ),
      ),
    ).toBe("profile-violation");
    expect(
      await codeOf(() => writeCertificate(t, order({ notAfter: new Date("2028-01-02T00:00:00Z") }))),
    ).toBe("profile-violation");
    expect(await codeOf(() => writeCertificate(t, order({ notAfter: notBefore })))).toBe("profile-violation");
    expect(
      await codeOf(() => writeCertificate(t, order({ notAfter: new Date(notBefore.getTime() + 999) }))),
    ).toBe("profile-violation");
  });

  test("a zero, empty or over-long serial (RFC 5280 §4.1.2.2)", async () => {
    for (const serial of [new Uint8Array(0), Uint8Array.of(0), new Uint8Array(20).fill(0xff)]) {
      expect(await codeOf(() => writeCertificate(chain.issuing.issuer, order({ serial })))).toBe(
        "profile-violation",
      );
    }
  });

  test("a CA certificate under a pathLen 0 issuer", async () => {
    const ca = order({ profile: profiles["issuing-ca"], notAfter: new Date("2030-01-01T00:00:00Z") });
    expect(await codeOf(() => writeCertificate(chain.issuing.issuer, ca))).toBe("profile-violation");
    expect(await codeOf(() => writeCertificate(chain.root.issuer, ca))).toBeUndefined();
  });

  test("keys outside the registry or the profile (unsupported-algorithm)", async () => {
    const spkiOf = (k: ReturnType<typeof generateKeyPairSync>) =>
      new Uint8Array(k.publicKey.export({ format: "der", type: "spki" }));
    const p521 = spkiOf(generateKeyPairSync("ec", { namedCurve: "P-521" }));
    const rsa1024 = spkiOf(generateKeyPairSync("rsa", { modulusLength: 1024 }));
    for (const spki of [p521, rsa1024]) {
      expect(
        await codeOf(() => writeCertificate(chain.issuing.issuer, order({ subjectPublicKeyInfo: spki }))),
      ).toBe("unsupported-algorithm");
    }
    const onlyEd25519: Profile = { ...profiles.device, allowedKeyAlgorithms: ["ed25519"] };
    expect(await codeOf(() => writeCertificate(chain.issuing.issuer, order({ profile: onlyEd25519 })))).toBe(
      "unsupported-algorithm",
    );
    // RSA-2048: a device key, never a server's or a CA's.
    const rsa2048 = spkiOf(generateKeyPairSync("rsa", { modulusLength: 2048 }));
    const as = (profile: Profile, subjectPublicKeyInfo: Uint8Array, sans: CertificateOrder["sans"] = []) =>
      codeOf(() =>
        writeCertificate(
          chain.issuing.issuer,
          order({ profile, subjectPublicKeyInfo, sans, ...(sans.length ? { subject: [] } : {}) }),
        ),
      );
    expect(await as(profiles.device, rsa2048)).toBeUndefined();
    expect(await as(profiles["tls-server"], rsa2048, [{ type: "dns", value: "a.example" }])).toBe(
      "unsupported-algorithm",
    );
    const ca = { profile: profiles["issuing-ca"], subjectPublicKeyInfo: rsa2048 };
    expect(await codeOf(() => writeCertificate(chain.root.issuer, order(ca)))).toBe("unsupported-algorithm");
  });

  test("SANs the profile does not allow, and a CA without a subject", async () => {
    const ip = order({ sans: [{ type: "ip", value: "10.0.0.1" }] });
    expect(await codeOf(() => writeCertificate(chain.issuing.issuer, ip))).toBe("profile-violation");
    const tls = order({ profile: profiles["tls-server"] });
    expect(await codeOf(() => writeCertificate(chain.issuing.issuer, tls))).toBe("profile-violation");
    const noSubject = order({
      subject: [],
      profile: profiles["issuing-ca"],
      notAfter: new Date("2030-01-01T00:00:00Z"),
    });
    expect(await codeOf(() => writeCertificate(chain.root.issuer, noSubject))).toBe("profile-violation");
  });

  test("a self-issuer asked to certify another key or name", async () => {
    const self = compileSelfIssuer({
      subject: chain.root.subject,
      signer: chain.root.key.signer,
      notAfter: validity.rootNotAfter,
    });
    const base = {
      subject: chain.root.subject,
      profile: profiles["root-ca"],
      notAfter: new Date("2040-01-01T00:00:00Z"),
    };
    expect(
      await codeOf(() =>
        writeCertificate(self, order({ ...base, subjectPublicKeyInfo: chain.root.key.signer.publicKey })),
      ),
    ).toBeUndefined();
    expect(
      await codeOf(() =>
        writeCertificate(self, order({ ...base, subjectPublicKeyInfo: leaf.signer.publicKey })),
      ),
    ).toBe("invalid-configuration");
    expect(
      await codeOf(() =>
        writeCertificate(
          self,
          order({
            ...base,
            subject: [{ type: "CN", value: "other" }],
            subjectPublicKeyInfo: chain.root.key.signer.publicKey,
          }),
        ),
      ),
    ).toBe("invalid-configuration");
  });

  test("and signs nothing when it refuses", async () => {
    let signed = 0;
    const counting = {
      ...chain.issuing.issuer,
      signer: {
        ...chain.issuing.key.signer,
        sign: async (d: Uint8Array) => (signed++, chain.issuing.key.signer.sign(d)),
      },
    };
    await codeOf(() =>
      writeCertificate(counting, order({ sans: [{ type: "email", value: "a@example.com" }] })),
    );
    expect(signed).toBe(0);
    await writeCertificate(counting, order());
    expect(signed).toBe(1);
  });
});
