/**
 * What the HTTPS listener offers, named here and nowhere else (node:tls is given it at start and
 * at every certificate renewal: setSecureContext replaces the whole context, so anything left out
 * there would fall back to Node's defaults).
 *
 * Node's default list offers, in TLS 1.2, CBC with SHA-1 MACs, AES-CCM (and its truncated-tag
 * CCM_8) and ARIA: none needed, each more to get wrong. The server's key is always ECDSA P-256
 * (ca/server-identity.ts), so only ECDHE-ECDSA suites can be negotiated, and those are the ones
 * named; an RSA server key would need their ECDHE-RSA twins added here.
 * - TLS 1.3: the three AEAD suites of RFC 8446 §9.1 that clients actually offer (not CCM).
 * - TLS 1.2: forward-secret ECDHE with AEAD (AES-GCM, ChaCha20-Poly1305, RFC 7905), and the two
 *   ECDHE AES-CBC suites with SHA-256/384 HMACs (RFC 5289), because embedded EST clients need them:
 *   strongSwan's `pki --est` speaks TLS 1.2 with CBC suites only (FIELD-NOTES, EST). They come last,
 *   so a client that offers anything better gets it.
 * - Groups: X25519, P-256, P-384 (what TLS stacks on devices implement; not X448, P-521 or the
 *   finite-field groups, which cost more for nothing here).
 * - TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1), and no renegotiation (nothing here needs it,
 *   and a client-initiated one costs the server a handshake each).
 */
import { constants } from "node:crypto";
import type { SecureContextOptions } from "node:tls";

export const tls13CipherSuites = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
];

export const tls12CipherSuites = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-SHA256", // CBC, for strongSwan pki --est and other embedded EST stacks
  "ECDHE-ECDSA-AES256-SHA384", // CBC, likewise
];

export const tlsGroups = ["X25519", "P-256", "P-384"];

export const tlsPolicy = {
  minVersion: "TLSv1.2",
  maxVersion: "TLSv1.3",
  // One string for both: node:tls hands the TLS_ names to TLS 1.3 and the rest to TLS 1.2.
  ciphers: [...tls13CipherSuites, ...tls12CipherSuites].join(":"),
  honorCipherOrder: true,
  ecdhCurve: tlsGroups.join(":"),
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
} as const satisfies SecureContextOptions;
