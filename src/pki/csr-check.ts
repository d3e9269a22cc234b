/**
 * Policy on a parsed request: may a certificate of this profile be issued for it? Separate from
 * parsing (DESIGN.md §1.3: what may be asked is policy). The profile, not the request, decides
 * what the certificate says; these checks refuse requests asking for more than the profile gives.
 */
import { keyAlgorithms, roleRestriction } from "../crypto/algorithms.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { ParsedCsr } from "./csr.js";
import { checkName } from "./name.js";
import { oid } from "./oids.js";
import { checkNames, type Profile } from "./profiles.js";

// Extensions whose requested values Keyfleet reads (or deliberately overrides from the profile), so a
// critical request for them is understood; any other critical request cannot be honoured.
const understood = new Set<string>([
  oid.subjectAltName,
  oid.basicConstraints,
  oid.keyUsage,
  oid.extKeyUsage,
  oid.subjectKeyIdentifier,
]);

export function checkCsr(csr: ParsedCsr, profile: Profile): void {
  if (csr.requestsCa && !profile.ca) {
    throw new KeyfleetError(
      "forbidden-extension",
      `the CSR asks for a CA certificate (basicConstraints cA or keyUsage keyCertSign/cRLSign); profile "${profile.name}" issues end-entity certificates`,
    );
  }
  if (!profile.allowedKeyAlgorithms.includes(csr.keyAlgorithm)) {
    const allowed = profile.allowedKeyAlgorithms.map((a) => keyAlgorithms[a].label).join(", ");
    throw new KeyfleetError(
      "unsupported-algorithm",
      `profile "${profile.name}" does not accept ${keyAlgorithms[csr.keyAlgorithm].label} keys${roleRestriction(csr.keyAlgorithm, profile.keyRole)}; use ${allowed}`,
    );
  }
  // RFC 5280 §4.2: an extension marked critical must be processed; we cannot, so we cannot issue.
  const unknownCritical = csr.requestedExtensions.find((e) => e.critical && !understood.has(e.oid));
  if (unknownCritical) {
    throw new KeyfleetError(
      "forbidden-extension",
      `the CSR requests extension ${quoted(unknownCritical.oid)} as critical, which Keyfleet does not issue`,
    );
  }
  checkName(csr.subject);
  checkNames(csr.subject, csr.sans, profile);
}
