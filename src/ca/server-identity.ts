/**
 * The HTTPS server's own identity: a P-256 key made in memory at each start and never written
 * anywhere, with a tls-server certificate from our issuing CA, recorded like any other. The key
 * leaves this module only as the credential node:tls needs in-process (DESIGN §1.3: the API layer
 * never makes, stores or signs with a key; it hands this to its TLS stack and nothing else).
 */
import { generateKeyPair } from "../crypto/index.js";
import { parseIp, type SanEntry } from "../pki/index.js";
import type { Issuance } from "./issuance.js";

export interface ServerTlsIdentity {
  /** PKCS#8 PEM, for node:tls only: in memory, for the life of the process (and redacted in logs). */
  readonly privateKeyPem: string;
  /** The server certificate followed by the chain up to the root, PEM. */
  readonly certificateChainPem: string;
}

export async function serverTlsIdentity(
  issuance: Issuance,
  chainPem: () => Promise<string>,
  hostnames: readonly string[],
): Promise<ServerTlsIdentity> {
  const { privateKey, publicKey } = await generateKeyPair("p256");
  // A URL's IPv6 host comes in brackets ("[::1]"); the SAN holds the bare address.
  const names = [
    ...new Set(["localhost", "127.0.0.1", "::1", ...hostnames.map((h) => h.replace(/^\[(.*)\]$/, "$1"))]),
  ];
  const sans: SanEntry[] = names.map((n) =>
    parseIp(n) ? { type: "ip", value: n } : { type: "dns", value: n },
  );
  const certificate = await issuance.issueForOwnKey({
    spki: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    keyAlgorithm: "p256",
    subject: [{ type: "CN", value: names.find((n) => !parseIp(n) && n !== "localhost") ?? "localhost" }],
    sans,
    profile: "tls-server",
  });
  return {
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    certificateChainPem: certificate.pem + (await chainPem()),
  };
}
