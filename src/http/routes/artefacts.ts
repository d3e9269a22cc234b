/**
 * The pre-signed artefacts at the URLs each certificate carries: CA certificates at caIssuers (RFC
 * 5280 §4.2.2.1; DER as application/pkix-cert, RFC 2585 §4.1; `.pem` for people) and CRLs at the
 * CRL distribution point, with the delta beside it (application/pkix-crl, RFC 2585 §4.2). Served
 * from memory, so they keep answering while the database does not; with a strong ETag and
 * Last-Modified for conditional requests (304), and caching bounded by the CRL's nextUpdate and by
 * how soon a newer one may be published.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  crlPublisherSeconds,
  fullRefreshSeconds,
  type Artefact,
  type Authority,
  type CrlPublisher,
} from "../../ca/index.js";
import { KeyfleetError, type Clock } from "../../domain/index.js";
import { toPem } from "../../pki/index.js";

const fileParams = {
  hide: true,
  params: { type: "object", properties: { file: { type: "string" } }, required: ["file"] },
} as const;

export function artefactRoutes(
  http: FastifyInstance,
  services: { readonly authority: Authority; readonly crls: CrlPublisher },
  clock: Clock,
): void {
  http.get<{ Params: { file: string } }>("/ca/:file", { schema: fileParams }, async (request, reply) => {
    const m = /^(ca-[0-9a-f]+)\.(cer|crt|pem)$/.exec(request.params.file);
    if (!m) throw new KeyfleetError("not-found", `no CA certificate at ${request.url}`);
    const served = services.crls.served(`ca/${m[1]}.cer`);
    const der = served?.bytes ?? (await services.authority.caCertificate(m[1]!)); // a CA made since the last sync
    reply.header("cache-control", "public, max-age=3600");
    return m[2] === "pem"
      ? reply.type("application/x-pem-file").send(toPem("CERTIFICATE", der))
      : reply.type("application/pkix-cert").send(Buffer.from(der));
  });

  http.get<{ Params: { file: string } }>("/crl/:file", { schema: fileParams }, async (request, reply) => {
    const m = /^(ca-[0-9a-f]+)(-delta)?\.crl$/.exec(request.params.file);
    const served = m ? services.crls.served(`crl/${request.params.file}`) : undefined;
    if (!served) throw new KeyfleetError("not-found", `no CRL published at ${request.url}`);
    const republishedWithin = m![2] ? crlPublisherSeconds : fullRefreshSeconds;
    return sendArtefact(request, reply, served, clock.now(), republishedWithin, "application/pkix-crl");
  });
}

/** The artefact, or 304 when the client's copy is it (If-None-Match first, RFC 9110 §13.2.2). */
function sendArtefact(
  request: FastifyRequest,
  reply: FastifyReply,
  artefact: Artefact,
  now: Date,
  republishedWithin: number,
  type: string,
): FastifyReply {
  const untilExpiry = artefact.expires
    ? Math.floor((artefact.expires.getTime() - now.getTime()) / 1000)
    : Infinity;
  const maxAge = Math.max(0, Math.min(untilExpiry, republishedWithin));
  reply.header("etag", artefact.etag);
  reply.header("last-modified", artefact.lastModified.toUTCString());
  reply.header("cache-control", `public, max-age=${maxAge}, no-transform`);
  if (artefact.expires) reply.header("expires", artefact.expires.toUTCString());
  const match = request.headers["if-none-match"];
  const since = request.headers["if-modified-since"];
  const notModified =
    match !== undefined
      ? match.split(",").some((tag) => tag.trim() === artefact.etag || tag.trim() === "*")
      : since !== undefined && Date.parse(since) >= Math.floor(artefact.lastModified.getTime() / 1000) * 1000;
  if (notModified) return reply.code(304).send();
  return reply.type(type).send(Buffer.from(artefact.bytes));
}
