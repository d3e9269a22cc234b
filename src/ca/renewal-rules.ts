/**
 * When the HTTPS server's own certificate may keep serving, and what it must name. Pure: time and
 * the current issuing CA come in as parameters, so the rule is tested without a server or a clock.
 */
import { formatSan, parseIp, type DistinguishedName, type SanEntry } from "../pki/index.js";
import type { IssuedCertificate } from "./certificate.js";

/**
 * The names a server certificate carries for `hostnames`: always localhost and the loopbacks too.
 * pkilint reports `pkix.invalid_domain_name_syntax` for DNS:localhost; it is kept on purpose. The
 * rule behind that lint is the CA/Browser Forum's ban on internal names in publicly trusted
 * certificates, which does not bind a private CA's certificate for its own listener; RFC 6761 §6.3
 * reserves `localhost` for loopback, so it can name no other host; and without it `curl
 * https://localhost:8443/…` (the README's way in) fails hostname verification.
 */
export function serverNames(hostnames: readonly string[]): { subject: DistinguishedName; sans: SanEntry[] } {
  // A URL's IPv6 host comes in brackets ("[::1]"); the SAN holds the bare address.
  const names = [
    ...new Set(["localhost", "127.0.0.1", "::1", ...hostnames.map((h) => h.replace(/^\[(.*)\]$/, "$1"))]),
  ];
  return {
    subject: [{ type: "CN", value: names.find((n) => !parseIp(n) && n !== "localhost") ?? "localhost" }],
    sans: names.map((n): SanEntry => (parseIp(n) ? { type: "ip", value: n } : { type: "dns", value: n })),
  };
}

/**
 * When renewal falls due: with a third of the lifetime left (30 of 90 days), as Let's Encrypt
 * advises for its certificates, which leaves weeks to retry a renewal that fails.
 */
export function renewalDue(c: Pick<IssuedCertificate, "notBefore" | "notAfter">): Date {
  const lifetime = c.notAfter.getTime() - c.notBefore.getTime();
  return new Date(c.notBefore.getTime() + (lifetime * 2) / 3);
}

export interface Wanted {
  readonly names: readonly SanEntry[];
  /** The issuing CA that signs now; a certificate from any other no longer chains to what clients get. */
  readonly issuerId: string | undefined;
  readonly now: Date;
}

/** Whether a recorded certificate may keep serving: good, from the current issuing CA, naming every name, not yet due. */
export function fitToServe(
  c: Pick<IssuedCertificate, "status" | "issuerId" | "sans" | "notBefore" | "notAfter">,
  wanted: Wanted,
): boolean {
  const now = wanted.now.getTime();
  const has = new Set(c.sans.map(sanKey));
  return (
    c.status === "good" &&
    c.issuerId === wanted.issuerId &&
    wanted.names.every((n) => has.has(sanKey(formatSan(n)))) &&
    c.notBefore.getTime() <= now &&
    now < renewalDue(c).getTime()
  );
}

/** One comparable form per name: DNS names are case-insensitive (RFC 4343), IP addresses compare as octets. */
function sanKey(formatted: string): string {
  const colon = formatted.indexOf(":");
  const type = formatted.slice(0, colon);
  const value = formatted.slice(colon + 1);
  if (type === "DNS") return `DNS:${value.toLowerCase()}`;
  const ip = type === "IP" ? parseIp(value) : undefined;
  return ip ? `IP:${Buffer.from(ip).toString("hex")}` : formatted;
}
