/**
 * The profiles a registered device's certificate may have, and what each allows, for checking a
 * policy document's issuance rules (policy knows no profile itself): `device`, its LDevID, and
 * `tls-server` for a device that serves TLS (a gateway). `client` is for what is no device; CA and
 * responder profiles are never a device's.
 */
import { profiles } from "../pki/index.js";
import type { ProfileCatalog } from "../policy/index.js";

export const profileCatalog: ProfileCatalog = Object.fromEntries(
  [profiles.device, profiles["tls-server"]].map((p) => [
    p.name,
    { maxValiditySeconds: p.maxValiditySeconds, keyAlgorithms: p.allowedKeyAlgorithms },
  ]),
);
