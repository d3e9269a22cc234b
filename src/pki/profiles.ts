/**
 * Certificate profiles: what a certificate of each kind says (RFC 5280 §4.2.1) and what a request
 * for one may ask. Profiles are data; the writer and the CSR checks read them.
 *
 * Key usage choices: end entities get digitalSignature only. That is what TLS 1.3, ECDHE and
 * signing need, and it is the one bit valid for every registry key type (RFC 5480 §3 forbids
 * keyEncipherment for EC keys, RFC 8410 §5 for Ed25519). CA profiles add digitalSignature to
 * keyCertSign|cRLSign so a CA may also sign OCSP responses itself (RFC 6960 §4.2.2.2).
 */
import { keyAlgorithmsFor, type KeyAlgorithmId, type KeyRole } from "../crypto/algorithms.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { DistinguishedName } from "./name.js";
import { oid } from "./oids.js";
import { checkSanSyntax, formatSan, type SanEntry, type SanType } from "./san.js";

export type ProfileName = "root-ca" | "issuing-ca" | "device" | "client" | "tls-server" | "ocsp-responder";
export type KeyUsageName = "digitalSignature" | "keyEncipherment" | "keyCertSign" | "cRLSign";

export interface SanRules {
  /** The GeneralName forms a certificate of this profile may carry; empty: no subjectAltName at all. */
  readonly allowed: readonly SanType[];
  /** At least one SAN of one of these forms is required; empty: none required. */
  readonly requireOneOf: readonly SanType[];
  readonly max: number;
  /** The subject CN, if any, must be one of the DNS or IP names (CA/Browser Forum BR §7.1.4.3). */
  readonly commonNameInSans?: boolean;
}

export interface Profile {
  readonly name: ProfileName;
  readonly ca: boolean;
  /** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9); only for CA profiles. */
  readonly pathLength?: number;
  readonly keyUsage: readonly KeyUsageName[];
  /** OIDs (RFC 5280 §4.2.1.12); empty: no extKeyUsage extension. */
  readonly extendedKeyUsage: readonly string[];
  /** RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck: relying parties do not check the responder's own status. */
  readonly ocspNoCheck: boolean;
  /** What the certified key is (the algorithm registry says which algorithms each role may have). */
  readonly keyRole: KeyRole;
  /** The algorithms of `keyRole`, from the registry; a test may narrow them. */
  readonly allowedKeyAlgorithms: readonly KeyAlgorithmId[];
  readonly defaultValiditySeconds: number;
  readonly maxValiditySeconds: number;
  readonly sanRules: SanRules;
}

const DAY = 86_400;
const YEAR = 365 * DAY;
const keys = (keyRole: KeyRole) => ({ keyRole, allowedKeyAlgorithms: keyAlgorithmsFor(keyRole) });
const noSans: SanRules = { allowed: [], requireOneOf: [], max: 0 };
const caUsage: readonly KeyUsageName[] = ["digitalSignature", "keyCertSign", "cRLSign"];

export const profiles: Readonly<Record<ProfileName, Profile>> = {
  "root-ca": {
    name: "root-ca",
    ca: true, // no pathLen: the root may certify issuing CAs
    keyUsage: caUsage,
    extendedKeyUsage: [],
    ocspNoCheck: false,
    ...keys("ca"),
    defaultValiditySeconds: 20 * YEAR,
    maxValiditySeconds: 25 * YEAR,
    sanRules: noSans,
  },
  "issuing-ca": {
    name: "issuing-ca",
    ca: true,
    pathLength: 0, // issues end entities only
    keyUsage: caUsage,
    extendedKeyUsage: [],
    ocspNoCheck: false,
    ...keys("ca"),
    defaultValiditySeconds: 10 * YEAR,
    maxValiditySeconds: 15 * YEAR,
    sanRules: noSans,
  },
  // IEEE 802.1AR LDevID: subject may carry serialNumber; names by URI, DNS or hardwareModuleName.
  // No IP (device addresses change) and no email (a device has no mailbox).
  device: {
    name: "device",
    ca: false,
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: [oid.clientAuth],
    ocspNoCheck: false,
    ...keys("device"), // the device's own key, whatever its hardware holds (RSA-2048 included)
    defaultValiditySeconds: YEAR,
    maxValiditySeconds: 2 * YEAR,
    sanRules: { allowed: ["uri", "dns", "hardwareModuleName"], requireOneOf: [], max: 16 },
  },
  // A TLS client that is no registered device (a service, an operator's tool): bound to nothing, so
  // it names itself by DNS name or URI and may claim no device identity (issuance refuses a
  // registered serial and every urn:keyfleet: name). A software key: no RSA-2048, as for servers.
  client: {
    name: "client",
    ca: false,
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: [oid.clientAuth],
    ocspNoCheck: false,
    ...keys("service"),
    defaultValiditySeconds: 90 * DAY,
    maxValiditySeconds: 397 * DAY,
    sanRules: { allowed: ["uri", "dns"], requireOneOf: [], max: 16 },
  },
  // CA/Browser Forum BR §7.1.2.7: a server certificate names its hosts in the SAN; max 397 days.
  "tls-server": {
    name: "tls-server",
    ca: false,
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: [oid.serverAuth],
    ocspNoCheck: false,
    // A service key, so no RSA-2048: the device exception exists because hardware fixes the key,
    // while a server's key is made in software and may as well be P-256 or RSA-3072; a server key
    // also guards every client's sessions, and a 397-day certificate issued late in 2030 would
    // outlive RSA-2048's acceptability (see the registry). Servers that need RSA use RSA-3072.
    ...keys("service"),
    defaultValiditySeconds: 90 * DAY,
    maxValiditySeconds: 397 * DAY,
    sanRules: { allowed: ["dns", "ip"], requireOneOf: ["dns", "ip"], max: 100, commonNameInSans: true },
  },
  // RFC 6960 §4.2.2.2: a delegated responder carries id-kp-OCSPSigning; short-lived, since with
  // ocsp-nocheck its compromise can only be answered by expiry.
  "ocsp-responder": {
    name: "ocsp-responder",
    ca: false,
    keyUsage: ["digitalSignature"],
    extendedKeyUsage: [oid.ocspSigning],
    ocspNoCheck: true,
    ...keys("service"),
    defaultValiditySeconds: 30 * DAY,
    maxValiditySeconds: 90 * DAY,
    sanRules: noSans,
  },
};

export function profileByName(name: string): Profile {
  const found = Object.hasOwn(profiles, name) ? profiles[name as ProfileName] : undefined;
  if (!found) {
    throw new KeyfleetError(
      "unknown-profile",
      `unknown profile ${quoted(name)}; use one of ${Object.keys(profiles).join(", ")}`,
    );
  }
  return found;
}

/**
 * The subject and SANs a certificate of `profile` may carry: SAN syntax and forms, the profile's
 * required forms, and RFC 5280 §4.1.2.6 (an empty subject needs a SAN; a CA needs a subject).
 */
export function checkNames(subject: DistinguishedName, sans: readonly SanEntry[], profile: Profile): void {
  const rules = profile.sanRules;
  const fail = (message: string): never => {
    throw new KeyfleetError("profile-violation", `profile "${profile.name}": ${message}`);
  };
  for (const s of sans) {
    if (!rules.allowed.includes(s.type)) {
      fail(`a subject alternative name ${formatSan(s)} is not allowed${describeAllowed(rules)}`);
    }
    checkSanSyntax(s);
  }
  if (sans.length > rules.max) fail(`at most ${rules.max} subject alternative names, got ${sans.length}`);
  const seen = new Set<string>();
  for (const s of sans.map(formatSan)) {
    if (seen.has(s)) fail(`the subject alternative name ${s} is given twice`);
    seen.add(s);
  }
  const cn = subject.find((a) => a.type === "CN")?.value;
  if (
    rules.commonNameInSans &&
    cn !== undefined &&
    !sans.some((s) => s.type !== "hardwareModuleName" && sameName(s.value, cn))
  ) {
    fail(
      `the subject CN ${cn} must also be one of its subject alternative names (CA/Browser Forum BR §7.1.4.3)`,
    );
  }
  if (rules.requireOneOf.length && !sans.some((s) => rules.requireOneOf.includes(s.type))) {
    fail(`needs at least one subject alternative name of type ${rules.requireOneOf.join(" or ")}`);
  }
  if (subject.length === 0 && (profile.ca || sans.length === 0)) {
    fail(profile.ca ? "a CA certificate needs a subject" : "needs a subject or a subject alternative name");
  }
}

/** DNS names compare without regard to case (RFC 4343); IP addresses as written. */
function sameName(san: string, cn: string): boolean {
  return san.toLowerCase() === cn.toLowerCase();
}

function describeAllowed(rules: SanRules): string {
  return rules.allowed.length ? ` (allowed: ${rules.allowed.join(", ")})` : " (this profile carries none)";
}
