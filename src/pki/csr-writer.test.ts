import { createHash, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { softHsmToken } from "../../test/support/softhsm.js";
import { openPkcs11KeyStore, softwareSigner, type KeyAlgorithmId, type Signer } from "../crypto/index.js";
import { parseCsr } from "./csr.js";
import { writeCsr, type CsrRequest } from "./csr-writer.js";
import { toPem } from "./pem.js";

function nodeSigner(algorithm: KeyAlgorithmId): Signer {
  const type = algorithm === "ed25519" ? "ed25519" : algorithm.startsWith("rsa") ? "rsa" : "ec";
  const { privateKey, publicKey } =
    type === "ec"
      ? generateKeyPairSync("ec", { namedCurve: algorithm === "p256" ? "P-256" : "P-384" })
      : type === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ed25519");
  const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
  return softwareSigner({ uri: "keyfleet-sealed:t", algorithm, publicKey: spki }, privateKey);
}

const request: CsrRequest = {
  subject: [
    { type: "CN", value: "device-0042" },
    { type: "O", value: "Acme Sensors" },
    { type: "serialNumber", value: "SN0042" },
  ],
  sans: [
    { type: "dns", value: "device-0042.fleet.example" },
    { type: "uri", value: "urn:keyfleet:device:0042" },
    { type: "ip", value: "10.0.0.42" },
  ],
  challengePassword: "nonce-3f9a1c",
};

let dir: Workdir;
beforeAll(async () => {
  dir = await workdir();
});
afterAll(async () => {
  await dir.dispose();
});

/** `openssl req -verify -text` on the DER: the signature checks out and the fields read back. */
async function opensslReads(der: Uint8Array): Promise<string> {
  const file = await dir.write(`${createHash("sha256").update(der).digest("hex")}.csr`, der);
  const { stdout, stderr } = await openssl([
    "req",
    "-in",
    file,
    "-inform",
    "DER",
    "-verify",
    "-noout",
    "-text",
  ]);
  expect(stderr + stdout).toMatch(/verify OK|Certificate request self-signature verify OK/);
  return stdout;
}

describe("CSR writer", () => {
  test.each(["p256", "p384", "ed25519", "rsa2048"] as KeyAlgorithmId[])(
    "writes a %s CSR that openssl verifies and our reader parses",
    async (algorithm) => {
      const der = await writeCsr(request, nodeSigner(algorithm));
      const text = await opensslReads(der);
      expect(text).toContain("CN = device-0042, O = Acme Sensors, serialNumber = SN0042");
      expect(text).toContain(
        "DNS:device-0042.fleet.example, URI:urn:keyfleet:device:0042, IP Address:10.0.0.42",
      );
      expect(text).toMatch(/challengePassword\s*:\s*nonce-3f9a1c/);
      const parsed = parseCsr(der);
      expect(parsed.subject).toEqual(request.subject);
      expect(parsed.sans).toEqual(request.sans);
      expect(parsed.challengePassword).toBe("nonce-3f9a1c");
      expect(parsed.keyAlgorithm).toBe(algorithm);
      expect(parsed.requestedExtensions).toEqual([{ oid: "2.5.29.17", critical: false }]);
    },
  );

  test("writes no attributes but an empty set when there is neither SAN nor challengePassword", async () => {
    const der = await writeCsr({ subject: [{ type: "CN", value: "plain" }] }, nodeSigner("p256"));
    const text = await opensslReads(der);
    expect(text).toMatch(/Attributes:\s*\n\s*\(none\)|Attributes:\s*\n\s*a0:00/);
    expect(parseCsr(der)).toMatchObject({ sans: [], requestedExtensions: [] });
    expect(parseCsr(der).challengePassword).toBeUndefined();
  });

  test("marks the SAN critical when the subject is empty (RFC 5280 §4.2.1.6)", async () => {
    const der = await writeCsr(
      { subject: [], sans: [{ type: "dns", value: "d.example" }] },
      nodeSigner("p256"),
    );
    await opensslReads(der);
    expect(parseCsr(der).requestedExtensions).toEqual([{ oid: "2.5.29.17", critical: true }]);
  });

  test("copies a subject given as DER octet for octet (a re-enrollment repeats its certificate's)", async () => {
    // CN=device-9 as a PrintableString (13), which the attribute writer would have made a UTF8String.
    const der = Uint8Array.from(
      Buffer.from(`30133111300f06035504031308${Buffer.from("device-9").toString("hex")}`, "hex"),
    );
    const csr = await writeCsr({ subject: der }, nodeSigner("p256"));
    expect(Buffer.from(csr).includes(Buffer.from(der))).toBe(true);
    expect(parseCsr(csr).subject).toEqual([{ type: "CN", value: "device-9" }]);
  });

  test("writes a non-printable challengePassword as UTF8String", async () => {
    const der = await writeCsr(
      { subject: [{ type: "CN", value: "d" }], challengePassword: "nönce_✓" },
      nodeSigner("p256"),
    );
    expect(parseCsr(der).challengePassword).toBe("nönce_✓");
    const utf8 = Buffer.from("nönce_✓");
    expect(Buffer.from(der).includes(Buffer.concat([Buffer.of(0x0c, utf8.length), utf8]))).toBe(true);
  });

  test.each([
    [{ subject: [] }, "malformed-request"],
    [{ subject: [{ type: "CN", value: "d" }], challengePassword: "" }, "malformed-request"],
    [{ subject: [{ type: "CN", value: "d" }], challengePassword: "x".repeat(256) }, "malformed-request"],
    [{ subject: [{ type: "CN", value: "d\u202e" }] }, "profile-violation"],
    [
      { subject: [{ type: "CN", value: "d" }], sans: [{ type: "dns", value: "not a name" }] },
      "profile-violation",
    ],
  ] as [CsrRequest, string][])("refuses %j with %s before anything is signed", async (bad, code) => {
    let signed = 0;
    const signer = nodeSigner("p256");
    const counting: Signer = { ...signer, sign: (d) => (signed++, signer.sign(d)) };
    await expect(writeCsr(bad, counting)).rejects.toMatchObject({ code });
    expect(signed).toBe(0);
  });

  test("signs inside a SoftHSM2 token: openssl verifies the CSR, the key never left the token", async () => {
    const token = await softHsmToken();
    const store = await openPkcs11KeyStore(token);
    try {
      for (const algorithm of ["p256", "ed25519"] as const) {
        const signer = await store.signer(
          await store.generate({
            algorithm,
            label: `csr-${algorithm}`,
            purpose: "test",
            store: "pkcs11",
            extractable: false,
          }),
        );
        const der = await writeCsr(request, signer);
        await opensslReads(der);
        expect(parseCsr(der).subjectPublicKeyInfo).toEqual(signer.publicKey);
        expect(toPem("CERTIFICATE REQUEST", der)).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
      }
    } finally {
      store.close();
      await token.dispose();
    }
  });
});
