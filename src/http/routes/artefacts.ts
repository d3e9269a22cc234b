/**
 * The pre-signed artefacts at the URLs each certificate carries: CA certificates at caIssuers (RFC
 * 5280 §4.2.2.1; DER as application/pkix-cert, RFC 2585 §4.1; `.pem` for people) and CRLs at the
 * CRL distribution point, with the delta beside it (application/pkix-crl, RFC 2585 §4.2). Served
 * from memory only, so they keep answering while the database does not (a CA made a moment ago
 * is served once the publisher's next sync has it); with a strong ETag and
 * Last-Modified for conditional requests (304), and caching bounded by the CRL's nextUpdate and by
 * how soon a newer one may be published.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { crlPublisherSeconds, fullRefreshSeconds, type Artefact, type CrlPublisher } from "../../ca/index.js";
import { KeyfleetError, type Clock } from "../../domain/index.js";
import { toPem } from "../../pki/index.js";

/** A CA certificate never changes under its name. */
const caCertificateMaxAge = 3600;

const fileParams = {
  hide: true,
  params: { type: "object", properties: { file: { type: "string" } }, required: ["file"] },
} as const;

export function artefactRoutes(
  http: FastifyInstance,
  services: { readonly crls: CrlPublisher },
  clock: Clock,
): void {
  http.get<{ Params: { file: string } }>("/ca/:file", { schema: fileParams }, async (request, reply) => {
    const m = /^(ca-[0-9a-f]{1,64})\.(cer|crt|pem)$/.exec(request.params.file);
    const served = m ? services.crls.served(`ca/${m[1]}.cer`) : undefined;
    if (!served) throw new KeyfleetError("not-found", `no CA certificate at ${request.url}`);
    if (m![2] !== "pem") {
      return sendArtefact(request, reply, served, clock.now(), caCertificateMaxAge, "application/pkix-cert");
    }
    const pem = toPem("CERTIFICATE", served.bytes);
    return sendArtefact(
      request,
      reply,
      { ...served, bytes: Buffer.from(pem), etag: served.etag.replace(/"$/, '-pem"') },
      clock.now(),
      caCertificateMaxAge,
      "application/x-pem-file",
    );
  });

  http.get<{ Params: { file: string } }>("/crl/:file", { schema: fileParams }, async (request, reply) => {
    // The artefact store knows the names it serves (crlPath: a shard's, a delta's); nothing else is found.
    const served = services.crls.served(`crl/${request.params.file}`);
    if (!served) throw new KeyfleetError("not-found", `no CRL published at ${request.url}`);
    const republishedWithin = request.params.file.endsWith("-delta.crl")
      ? crlPublisherSeconds
      : fullRefreshSeconds;
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
  // RFC 9110 §13.1.2: If-None-Match compares weakly (a proxy may have weakened the tag).
  const match = request.headers["if-none-match"];
  const since = request.headers["if-modified-since"];
  const notModified =
    match !== undefined
      ? match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === artefact.etag || tag.trim() === "*")
      : since !== undefined && Date.parse(since) >= Math.floor(artefact.lastModified.getTime() / 1000) * 1000;
  if (notModified) return reply.code(304).send();
  return reply.type(type).send(Buffer.from(artefact.bytes));
}
