/**
 * What a device keeps to check peers while offline (issue 17 item 6): the newest CRL of its
 * certificate's issuer, fetched from the CRL distribution point in its own certificate, and its own
 * OCSP response, from the OCSP URL in the certificate's authority information access (a response
 * it can staple). Each is verified against the stored chain before it is kept (signed by the issuer
 * that the CA bundle anchors; the OCSP response for this very certificate), and kept only if newer
 * than what is there. Refreshed once past half-way to nextUpdate, so a device that goes offline
 * still holds one valid for a while. A responder that is not there (a 404, nothing listening) is
 * not an error that stops the agent: it is reported, and asked again next time.
 */
import { X509Certificate } from "node:crypto";
import { isKeyfleetError, KeyfleetError } from "../domain/index.js";
import {
  certIdFor,
  checkCrlSignature,
  readCertificate,
  readCrl,
  readOcspResponse,
  revocationPointers,
  validatePath,
  writeOcspRequest,
  type ReadCertificate,
  type ReadCrl,
} from "../pki/index.js";
import { httpsExchange } from "./https-request.js";
import { StateDirectory } from "./state-directory.js";

/** A CRL of a shard of a large fleet stays far below this; a bigger answer is refused, not read. */
const maxCrlBytes = 32 * 1024 * 1024;
const maxOcspBytes = 64 * 1024;

export interface Refreshed {
  /** kept: a newer one is stored now; fresh: the one stored is not due yet; unavailable: nothing new could be had. */
  readonly status: "kept" | "fresh" | "unavailable";
  readonly url?: string | undefined;
  readonly thisUpdate?: string | undefined;
  readonly nextUpdate?: string | undefined;
  readonly number?: string | undefined;
  /** The OCSP answer about the device's own certificate. */
  readonly certStatus?: string | undefined;
  readonly message?: string | undefined;
}

export interface RefreshReport {
  readonly crl: Refreshed;
  readonly ocsp: Refreshed;
}

/** The issuer of `leaf` that the CA bundle anchors, with the certificates known to the device. */
export function issuerOf(
  leaf: Uint8Array,
  anchors: readonly Uint8Array[],
  others: readonly Uint8Array[],
  at: Date,
) {
  const checked = validatePath(leaf, anchors, { at, intermediates: others });
  if (!checked.valid) return { issuer: undefined, message: checked.message };
  return { issuer: checked.path[1] ?? checked.path[0]!, message: undefined };
}

/** Whether `crl` (already parsed) is a full CRL signed by `issuer`: why not, or undefined. */
export function crlProblem(crl: ReadCrl, issuer: ReadCertificate): string | undefined {
  if (Buffer.compare(crl.issuer, issuer.subject) !== 0) return "the CRL is of another issuer";
  if (crl.deltaOf !== undefined) return "the CRL is a delta CRL, not the full CRL";
  if (checkCrlSignature(crl.der, issuer.subjectPublicKeyInfo) !== "good") {
    return "the CRL's signature does not verify with its issuer's key";
  }
  return undefined;
}

const newer = (a: ReadCrl, b: ReadCrl): boolean =>
  a.number !== undefined && b.number !== undefined
    ? a.number > b.number
    : a.thisUpdate.getTime() > b.thisUpdate.getTime();

const due = (thisUpdate: Date, nextUpdate: Date | undefined, now: Date): boolean =>
  nextUpdate === undefined || now.getTime() >= (thisUpdate.getTime() + nextUpdate.getTime()) / 2;

/** What was kept, read again; undefined when there is none or it no longer reads (replaced by the next one). */
function readable<T>(der: Uint8Array | undefined, read: (der: Uint8Array) => T): T | undefined {
  if (der === undefined) return undefined;
  try {
    return read(der);
  } catch (e) {
    if (isKeyfleetError(e)) return undefined;
    throw e;
  }
}

function unavailable(url: string | undefined, e: unknown): Refreshed {
  if (!isKeyfleetError(e)) throw e;
  return { status: "unavailable", url, message: `${e.message} (${e.code})` };
}

/** Fetches and keeps what is due (everything when `force`), and says what it did. */
export async function refreshRevocation(
  stateDir: string,
  options: { readonly now?: () => Date; readonly force?: boolean } = {},
): Promise<RefreshReport> {
  const now = (options.now ?? (() => new Date()))();
  const state = new StateDirectory(stateDir);
  const [leaf, ...chain] = await state.readCertificates();
  const anchors = await state.readCaBundle();
  const { issuer, message } = issuerOf(leaf!, anchors, chain, now);
  if (!issuer) {
    const refused = { status: "unavailable" as const, message: `the device's own certificate: ${message}` };
    return { crl: refused, ocsp: refused };
  }
  const pointers = revocationPointers(readCertificate(leaf!));
  return {
    crl: await refreshCrl(state, issuer, pointers.crl[0], now, options.force ?? false),
    ocsp: await refreshOcsp(state, leaf!, issuer, pointers.ocsp[0], now, options.force ?? false),
  };
}

async function refreshCrl(
  state: StateDirectory,
  issuer: ReadCertificate,
  url: string | undefined,
  now: Date,
  force: boolean,
): Promise<Refreshed> {
  const kept = readable(await state.readDer("crl.der"), readCrl);
  const facts = (c: ReadCrl) => ({
    url,
    thisUpdate: c.thisUpdate.toISOString(),
    nextUpdate: c.nextUpdate?.toISOString(),
    number: c.number?.toString(),
  });
  if (kept && !force && !due(kept.thisUpdate, kept.nextUpdate, now))
    return { status: "fresh", ...facts(kept) };
  if (url === undefined)
    return { status: "unavailable", message: "the certificate names no CRL distribution point" };
  try {
    const res = await httpsExchange({ url: new URL(url), method: "GET", maxBytes: maxCrlBytes });
    if (res.status !== 200) throw new KeyfleetError("unavailable", `${url} answered ${res.status}`);
    const crl = readCrl(new Uint8Array(res.body));
    const problem = crlProblem(crl, issuer);
    if (problem) throw new KeyfleetError("bad-signature", `${url}: ${problem}; not kept`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() <= now.getTime()) {
      throw new KeyfleetError(
        "unavailable",
        `${url} serves a CRL that expired at ${crl.nextUpdate.toISOString()}`,
      );
    }
    if (kept && !newer(crl, kept)) return { status: "fresh", ...facts(kept) };
    await state.writeDer("crl.der", crl.der);
    return { status: "kept", ...facts(crl) };
  } catch (e) {
    return unavailable(url, e);
  }
}

async function refreshOcsp(
  state: StateDirectory,
  leaf: Uint8Array,
  issuer: ReadCertificate,
  url: string | undefined,
  now: Date,
  force: boolean,
): Promise<Refreshed> {
  const id = certIdFor(new X509Certificate(leaf).serialNumber, issuer);
  const kept = readable(await state.readDer("ocsp.der"), (der) => readOcspResponse(der, id, issuer, now));
  const facts = (a: NonNullable<typeof kept>) => ({
    url,
    certStatus: a.status,
    thisUpdate: a.thisUpdate.toISOString(),
    nextUpdate: a.nextUpdate?.toISOString(),
  });
  if (kept && !force && !due(kept.thisUpdate, kept.nextUpdate, now))
    return { status: "fresh", ...facts(kept) };
  if (url === undefined) return { status: "unavailable", message: "the certificate names no OCSP responder" };
  try {
    const res = await httpsExchange({
      url: new URL(url),
      method: "POST",
      headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response" },
      body: writeOcspRequest(id),
      maxBytes: maxOcspBytes,
    });
    if (res.status !== 200) throw new KeyfleetError("unavailable", `${url} answered ${res.status}`);
    const der = new Uint8Array(res.body);
    const answer = readOcspResponse(der, id, issuer, now);
    if (answer.nextUpdate && answer.nextUpdate.getTime() <= now.getTime()) {
      throw new KeyfleetError(
        "unavailable",
        `${url} answered with a response that expired at ${answer.nextUpdate.toISOString()}`,
      );
    }
    if (kept && kept.thisUpdate.getTime() > answer.thisUpdate.getTime())
      return { status: "fresh", ...facts(kept) };
    await state.writeDer("ocsp.der", der);
    return { status: "kept", ...facts(answer) };
  } catch (e) {
    return unavailable(url, e);
  }
}
