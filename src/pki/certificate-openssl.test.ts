/**
 * Interop with the real openssl: CSRs made by `openssl req`, chains written by us, accepted by
 * `openssl verify -x509_strict`, and the extensions as `openssl x509 -text` shows them.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { KeyAlgorithmId } from "../crypto/algorithms.js";
import { writeCertificate } from "./certificate-writer.js";
import { compileIssuer } from "./issuer-template.js";
import { checkCsr } from "./csr-check.js";
import { parseCsr } from "./csr.js";
import { toPem } from "./pem.js";
import { profiles, type ProfileName } from "./profiles.js";
import { newSerial } from "./serial.js";
import { issuingUrls, testChain, type TestChain } from "./test-chain.js";
import {
  openssl,
  opensslCsrDer,
  opensslCsrWithKey,
  workdir,
  type Workdir,
  opensslSelfSigned,
} from "../../test/support/openssl.js";
import { testSignerFromKeys } from "./test-signer.js";

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const days = (n: number): Date => new Date(now.getTime() + n * 86_400_000);

async function verifyChain(
  dir: Workdir,
  chain: TestChain,
  leaf: Uint8Array,
  purpose?: string,
): Promise<string> {
  const root = await dir.write("root.pem", toPem("CERTIFICATE", chain.root.der));
  const issuing = await dir.write("issuing.pem", toPem("CERTIFICATE", chain.issuing.der));
  const leafFile = await dir.write("leaf.pem", toPem("CERTIFICATE", leaf));
  const args = [
    "verify",
    "-x509_strict",
    ...(purpose ? ["-purpose", purpose] : []),
    "-CAfile",
    root,
    "-untrusted",
    issuing,
    leafFile,
  ];
  try {
    return (await openssl(args)).stdout.trim();
  } catch (e) {
    return `failed: ${String((e as { stdout?: string; stderr?: string }).stdout)} ${String((e as { stderr?: string }).stderr)}`;
  }
}

async function text(dir: Workdir, der: Uint8Array): Promise<string> {
  const file = await dir.write("show.pem", toPem("CERTIFICATE", der));
  return (await openssl(["x509", "-in", file, "-noout", "-text"])).stdout;
}

async function issue(
  chain: TestChain,
  dir: Workdir,
  algorithm: KeyAlgorithmId,
  profile: ProfileName,
  subject: string,
  extra: string[],
) {
  const { der, keyFile } = await opensslCsrWithKey(dir, algorithm, subject, extra);
  const csr = parseCsr(der);
  checkCsr(csr, profiles[profile]);
  const cert = await writeCertificate(chain.issuing.issuer, {
    serial: newSerial(),
    subject: csr.subject,
    sans: csr.sans,
    subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
    notBefore: now,
    notAfter: days(profile === "ocsp-responder" ? 30 : 90),
    profile: profiles[profile],
  });
  return { cert, keyFile };
}

describe.each<KeyAlgorithmId>(["p256", "p384", "ed25519", "rsa3072"])(
  "%s: openssl accepts what we write",
  (algorithm) => {
    let dir: Workdir;
    let chain: TestChain;
    beforeAll(async () => {
      dir = await workdir();
      chain = await testChain(algorithm, {
        notBefore: now,
        rootNotAfter: days(20 * 365),
        issuingNotAfter: days(10 * 365),
      });
    });
    afterAll(() => dir.dispose());

    test("device certificate from an openssl CSR: verify -x509_strict -purpose sslclient says OK", async () => {
      const { cert, keyFile } = await issue(
        chain,
        dir,
        algorithm,
        "device",
        "/CN=sensor-0042/serialNumber=SN0042",
        ["-addext", "subjectAltName=URI:urn:keyfleet:device:dev-0042,DNS:sensor-0042.fleet.example"],
      );
      expect(await verifyChain(dir, chain, cert, "sslclient")).toMatch(/leaf\.pem: OK$/);
      const shown = await text(dir, cert);
      expect(shown).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(shown).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
      expect(shown).toMatch(/X509v3 Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
      expect(shown).toMatch(
        /X509v3 Subject Alternative Name: \s*\n\s+URI:urn:keyfleet:device:dev-0042, DNS:sensor-0042\.fleet\.example/,
      );
      expect(shown).toMatch(/X509v3 Subject Key Identifier/);
      expect(shown).toMatch(/X509v3 Authority Key Identifier/);
      expect(shown).toMatch(/Full Name:\s+URI:http:\/\/pki\.example\.test\/crl\/issuing\.crl/);
      expect(shown).toMatch(
        /OCSP - URI:http:\/\/pki\.example\.test\/ocsp\s+CA Issuers - URI:http:\/\/pki\.example\.test\/ca\/issuing\.cer/,
      );
      expect(shown).toMatch(/Subject: CN = sensor-0042, serialNumber = SN0042/);
      // The certified key is the key openssl generated.
      const certKey = (await openssl(["x509", "-in", dir.file("show.pem"), "-noout", "-pubkey"])).stdout;
      expect(certKey).toBe((await openssl(["pkey", "-in", keyFile, "-pubout"])).stdout);
    });

    test("CA certificates show CA:TRUE, pathlen 0 on the issuing CA, and certificate signing", async () => {
      const root = await text(dir, chain.root.der);
      expect(root).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
      expect(root).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
      expect(root).not.toMatch(/CRL Distribution Points|Authority Information Access/);
      const issuing = await text(dir, chain.issuing.der);
      expect(issuing).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(issuing).toMatch(/URI:http:\/\/pki\.example\.test\/crl\/root\.crl/);
    });

    test("tls-server certificate: verify -purpose sslserver says OK and shows its DNS and IP names", async () => {
      const { cert } = await issue(chain, dir, algorithm, "tls-server", "/CN=pki.example.test", [
        "-addext",
        "subjectAltName=DNS:pki.example.test,IP:127.0.0.1,IP:::1",
      ]);
      expect(await verifyChain(dir, chain, cert, "sslserver")).toMatch(/leaf\.pem: OK$/);
      expect(await text(dir, cert)).toMatch(
        /DNS:pki\.example\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/,
      );
      expect(await text(dir, cert)).toMatch(/TLS Web Server Authentication/);
    });

    test("ocsp-responder certificate: OCSP Signing and OCSP No Check, verify says OK", async () => {
      const { cert } = await issue(chain, dir, algorithm, "ocsp-responder", "/CN=OCSP Responder", []);
      expect(await verifyChain(dir, chain, cert)).toMatch(/leaf\.pem: OK$/);
      const shown = await text(dir, cert);
      expect(shown).toMatch(/OCSP Signing/);
      expect(shown).toMatch(/OCSP No Check/);
    });

    test("a certificate with one flipped signature bit fails openssl verify", async () => {
      const { cert } = await issue(chain, dir, algorithm, "device", "/CN=tampered", []);
      const tampered = cert.slice();
      tampered[tampered.length - 2]! ^= 0x01;
      expect(await verifyChain(dir, chain, tampered)).toMatch(/^failed: .*(signature|verify)/is);
    });
  },
);

describe("an issuing CA made by openssl (SHA-1 key identifiers, its own name encoding)", () => {
  test("compiles, and what we issue under it verifies with -x509_strict", async () => {
    const dir = await workdir();
    try {
      const theirs = await opensslSelfSigned(dir, "ca", "/O=Elsewhere/CN=Their CA", [
        "-addext",
        "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ]);
      const caDer = theirs.der;
      const privateKey = createPrivateKey(await readFile(theirs.keyFile));
      const { signer } = testSignerFromKeys("p256", privateKey, createPublicKey(privateKey));
      const issuer = compileIssuer({ certificate: caDer, signer, urls: issuingUrls });
      expect(issuer.subject).toEqual([
        { type: "O", value: "Elsewhere" },
        { type: "CN", value: "Their CA" },
      ]);
      const csr = parseCsr(await opensslCsrDer(dir, "ed25519", "/CN=device-9"));
      const leaf = await writeCertificate(issuer, {
        serial: newSerial(),
        subject: csr.subject,
        sans: [],
        subjectPublicKeyInfo: csr.subjectPublicKeyInfo,
        notBefore: now,
        notAfter: days(7),
        profile: profiles.device,
      });
      const leafFile = await dir.write("leaf.pem", toPem("CERTIFICATE", leaf));
      const { stdout } = await openssl([
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        theirs.certFile,
        leafFile,
      ]);
      expect(stdout.trim()).toMatch(/leaf\.pem: OK$/);
    } finally {
      await dir.dispose();
    }
  });
});
