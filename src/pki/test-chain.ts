/**
 * TEST SUPPORT ONLY — not exported from index.ts. A root → issuing CA chain written by our own
 * writer, with test signers, for the writer, CSR and openssl interop tests.
 */
import type { KeyAlgorithmId } from "../crypto/algorithms.js";
import { writeCertificate } from "./certificate-writer.js";
import {
  compileIssuer,
  compileSelfIssuer,
  type IssuerTemplate,
  type RevocationUrls,
} from "./issuer-template.js";
import type { DistinguishedName } from "./name.js";
import { profiles } from "./profiles.js";
import { newSerial } from "./serial.js";
import { testSigner, type TestKey } from "./test-signer.js";

export const rootUrls: RevocationUrls = {
  caIssuers: "http://pki.example.test/ca/root.cer",
  crl: "http://pki.example.test/crl/root.crl",
  ocsp: "http://pki.example.test/ocsp",
};
export const issuingUrls: RevocationUrls = {
  caIssuers: "http://pki.example.test/ca/issuing.cer",
  crl: "http://pki.example.test/crl/issuing.crl",
  ocsp: "http://pki.example.test/ocsp",
};

export interface TestCa {
  readonly key: TestKey;
  readonly subject: DistinguishedName;
  readonly serial: Uint8Array;
  readonly der: Uint8Array;
  /** The template that issues under this CA (with its URLs). */
  readonly issuer: IssuerTemplate;
}

export interface TestChain {
  readonly root: TestCa;
  readonly issuing: TestCa;
}

export async function testChain(
  algorithm: KeyAlgorithmId,
  validity: { notBefore: Date; rootNotAfter: Date; issuingNotAfter: Date },
): Promise<TestChain> {
  const rootKey = await testSigner(algorithm);
  const rootSubject: DistinguishedName = [
    { type: "C", value: "DE" },
    { type: "O", value: "Keyfleet Test" },
    { type: "CN", value: `Test Root CA ${algorithm}` },
  ];
  const self = compileSelfIssuer({
    subject: rootSubject,
    signer: rootKey.signer,
    notAfter: validity.rootNotAfter,
  });
  const rootSerial = newSerial();
  const rootDer = await writeCertificate(self, {
    serial: rootSerial,
    subject: rootSubject,
    sans: [],
    subjectPublicKeyInfo: rootKey.signer.publicKey,
    notBefore: validity.notBefore,
    notAfter: validity.rootNotAfter,
    profile: profiles["root-ca"],
  });
  const rootIssuer = compileIssuer({ certificate: rootDer, signer: rootKey.signer, urls: rootUrls });
  const issuingKey = await testSigner(algorithm);
  const issuingSubject: DistinguishedName = [
    { type: "O", value: "Keyfleet Test" },
    { type: "CN", value: `Test Issuing CA ${algorithm}` },
  ];
  const issuingSerial = newSerial();
  const issuingDer = await writeCertificate(rootIssuer, {
    serial: issuingSerial,
    subject: issuingSubject,
    sans: [],
    subjectPublicKeyInfo: issuingKey.signer.publicKey,
    notBefore: validity.notBefore,
    notAfter: validity.issuingNotAfter,
    profile: profiles["issuing-ca"],
  });
  return {
    root: { key: rootKey, subject: rootSubject, serial: rootSerial, der: rootDer, issuer: rootIssuer },
    issuing: {
      key: issuingKey,
      subject: issuingSubject,
      serial: issuingSerial,
      der: issuingDer,
      issuer: compileIssuer({ certificate: issuingDer, signer: issuingKey.signer, urls: issuingUrls }),
    },
  };
}
