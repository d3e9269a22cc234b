/**
 * The CA certificates at the caIssuers URL each certificate carries (RFC 5280 §4.2.2.1): DER as
 * application/pkix-cert (RFC 2585 §4.1); `.pem` for people.
 */
import type { FastifyInstance } from "fastify";
import type { Authority } from "../../ca/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { toPem } from "../../pki/index.js";

export function caFileRoutes(http: FastifyInstance, authority: Authority): void {
  http.get<{ Params: { file: string } }>(
    "/ca/:file",
    {
      schema: {
        hide: true,
        params: { type: "object", properties: { file: { type: "string" } }, required: ["file"] },
      },
    },
    async (request, reply) => {
      const m = /^(ca-[0-9a-f]+)\.(cer|crt|pem)$/.exec(request.params.file);
      if (!m) throw new KeyfleetError("not-found", `no CA certificate at ${request.url}`);
      const der = await authority.caCertificate(m[1]!);
      reply.header("cache-control", "public, max-age=3600");
      return m[2] === "pem"
        ? reply.type("application/x-pem-file").send(toPem("CERTIFICATE", der))
        : reply.type("application/pkix-cert").send(Buffer.from(der));
    },
  );
}
