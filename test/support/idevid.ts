/**
 * A manufacturer's CA and the IDevIDs it issues (IEEE 802.1AR), for registration tests: made
 * in-process with the path-validation tests' certificate builder (any validity, which openssl 3.0
 * cannot backdate), and registered on a test database as a ca-admin would.
 */
import { auditLog } from "../../src/audit/index.js";
import { systemClock } from "../../src/domain/index.js";
import { testCertificate, testKeyPair, type TestCertificate } from "../../src/pki/test-certificate.js";
import { systemCaller } from "../../src/policy/index.js";
import { manufacturerService } from "../../src/registry/manufacturers.js";
import type { Database } from "../../src/store/index.js";

const DAY = 86_400_000;

export interface TestManufacturer {
  readonly name: string;
  readonly ca: TestCertificate;
  /** An IDevID for `serial` signed by the CA (DER), valid as the CA is unless told otherwise. */
  idevid(serial: string, validity?: { notBefore: Date; notAfter: Date }): Uint8Array;
  /** An IDevID for `serial` certifying a key made elsewhere (in a token), by its SubjectPublicKeyInfo. */
  idevidFor(serial: string, spki: Uint8Array): Uint8Array;
}

/** A manufacturer with a root CA valid around `at` (default: now), not registered anywhere. */
export function testManufacturer(name: string, at: Date = new Date()): TestManufacturer {
  const around = {
    notBefore: new Date(at.getTime() - 30 * DAY),
    notAfter: new Date(at.getTime() + 365 * DAY),
  };
  const ca = testCertificate({
    commonName: `${name} IDevID CA`,
    key: testKeyPair("p256"),
    ca: true,
    ...around,
  });
  return {
    name,
    ca,
    idevid: (serial, validity = around) =>
      testCertificate({ commonName: serial, key: testKeyPair("p256"), issuer: ca, ...validity }).der,
    // The subject's private key is never used when an issuer signs: only its public key is certified.
    idevidFor: (serial, spki) =>
      testCertificate({ commonName: serial, key: { ...testKeyPair("p256"), spki }, issuer: ca, ...around })
        .der,
  };
}

/** testManufacturer, registered on `database` with its root CA. */
export async function registeredManufacturer(
  database: Database,
  name: string,
  at?: Date,
): Promise<TestManufacturer> {
  const maker = testManufacturer(name, at);
  await manufacturerService({ database, audit: auditLog({ database, clock: systemClock }) }).add(
    systemCaller,
    {
      name,
      certificates: [maker.ca.der],
    },
  );
  return maker;
}
