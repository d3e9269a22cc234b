/**
 * What the end-entity profiles allow, for checking a policy document's issuance rules (policy
 * knows no profile itself). The CA profiles are not here: a rule never issues a CA certificate.
 */
import { profiles } from "../pki/index.js";
import type { ProfileCatalog } from "../policy/index.js";

export const profileCatalog: ProfileCatalog = Object.fromEntries(
  Object.values(profiles)
    .filter((p) => !p.ca)
    .map((p) => [
      p.name,
      { maxValiditySeconds: p.maxValiditySeconds, keyAlgorithms: p.allowedKeyAlgorithms },
    ]),
);
