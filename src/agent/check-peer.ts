/**
 * Checking a peer while offline (issue 17 item 6): the peer's certificate (and any chain it sent)
 * must validate to the CA bundle the device keeps (RFC 5280 §6, at the time given), and must not be
 * on the CRL the device kept of that issuer, which must itself be that issuer's, verified, not
 * past its nextUpdate (§6.3.3: an expired CRL proves nothing), and of the peer's scope (the CRL
 * shard its distribution point names, §5.2.5). The verdict is one line; `good` is
 * the only one that lets a peer in.
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";
import { fromPem, readCertificate, readCrl, revocationPointers, serialKey } from "../pki/index.js";
import { crlProblem, issuerOf } from "./revocation-cache.js";
import { StateDirectory } from "./state-directory.js";

export interface PeerVerdict {
  readonly verdict: "good" | "revoked" | "untrusted" | "unknown";
  readonly line: string;
}

function peerCertificates(pem: string, file: string): Uint8Array[] {
  let certificates: Uint8Array[];
  try {
    certificates = fromPem(pem, "CERTIFICATE");
  } catch (cause) {
    throw new KeyfleetError("malformed-request", `${quoted(file, 200)} is not PEM certificates`, { cause });
  }
  if (certificates.length === 0) {
    throw new KeyfleetError("malformed-request", `${quoted(file, 200)} holds no certificate`);
  }
  return certificates;
}

export async function checkPeer(
  stateDir: string,
  pem: string,
  file: string,
  now: Date,
): Promise<PeerVerdict> {
  const state = new StateDirectory(stateDir);
  const [peer, ...sent] = peerCertificates(pem, file);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(peer!);
  } catch (cause) {
    throw new KeyfleetError("malformed-request", `${quoted(file, 200)} does not hold a certificate`, {
      cause,
    });
  }
  const who = `${x509.subject.replace(/\n/g, ", ")} (serial ${x509.serialNumber})`;
  const own = await state.readCertificates();
  const { issuer, message } = issuerOf(peer!, await state.readCaBundle(), [...sent, ...own.slice(1)], now);
  if (!issuer) return { verdict: "untrusted", line: `untrusted: ${who}: ${message}` };
  const der = await state.readDer("crl.der");
  if (!der) {
    return {
      verdict: "unknown",
      line: `unknown: ${who}: no CRL kept; run \`keyfleet-agent refresh\` while online`,
    };
  }
  const crl = readCrl(der);
  const problem = crlProblem(crl, issuer);
  if (problem) return { verdict: "unknown", line: `unknown: ${who}: ${problem}` };
  if (crl.nextUpdate === undefined || crl.nextUpdate.getTime() <= now.getTime()) {
    return {
      verdict: "unknown",
      line: `unknown: ${who}: the CRL kept expired at ${crl.nextUpdate?.toISOString() ?? "(no nextUpdate)"}; refresh it while online`,
    };
  }
  // A sharded CA's CRL covers the certificates naming it (its IDP): another shard's peer is not on it.
  const pointers = revocationPointers(readCertificate(peer!)).crl;
  if (crl.scope && !pointers.some((url) => crl.scope!.includes(url))) {
    return {
      verdict: "unknown",
      line: `unknown: ${who}: the CRL kept covers ${crl.scope.join(", ")}, not the peer's CRL ${pointers.length ? pointers.join(", ") : "(it names none)"}`,
    };
  }
  const of = `CRL #${crl.number?.toString() ?? "?"} (next update ${crl.nextUpdate.toISOString()})`;
  const entry = crl.entries.get(serialKey(x509.serialNumber));
  if (entry) {
    const reason = entry.reason ?? "unspecified";
    const state = reason === "certificateHold" ? "on hold" : "revoked";
    return {
      verdict: "revoked",
      line: `revoked: ${who} is ${state} since ${entry.revokedAt.toISOString()} (${reason}), ${of}`,
    };
  }
  return { verdict: "good", line: `good: ${who}, not on ${of}` };
}
