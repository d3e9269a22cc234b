/**
 * The HTTPS server's identity: a fresh key made in memory at each start (never written anywhere)
 * and a tls-server certificate from our own issuing CA, recorded like any other.
 */
import { generateKeyPair } from "../crypto/index.js";
import type { App } from "../app.js";
import type { SanEntry } from "../pki/index.js";

export interface ServerIdentity {
  readonly key: string;
  readonly cert: string;
  readonly serial: string;
}

export async function serverIdentity(app: App, hostnames: readonly string[]): Promise<ServerIdentity> {
  const { privateKey, publicKey } = await generateKeyPair("p256");
  const names = [...new Set(["localhost", "127.0.0.1", "::1", ...hostnames])];
  const sans: SanEntry[] = names.map((n) => (isIp(n) ? { type: "ip", value: n } : { type: "dns", value: n }));
  const certificate = await app.authority.issueForOwnKey({
    spki: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    keyAlgorithm: "p256",
    subject: [{ type: "CN", value: names.find((n) => !isIp(n) && n !== "localhost") ?? "localhost" }],
    sans,
    profile: "tls-server",
  });
  const chain = await app.authority.chain();
  return {
    // Handed to node:tls in memory only: TLS needs the key in-process, and it lives as long as the process.
    key: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    cert: certificate.pem + chain.pem,
    serial: certificate.serial,
  };
}

function isIp(name: string): boolean {
  return /^[0-9.]+$/.test(name) || name.includes(":");
}
