/**
 * Request validation. Bodies are checked strictly: an unknown field or a value of the wrong JSON
 * type is refused, not dropped or converted (Fastify's defaults would turn `"validitySecond": 60`,
 * a typo, into a silently ignored field and a one-year certificate, and `true` into 1). Query
 * strings and path parameters arrive as text, so there numbers are converted, then checked.
 */
import { Ajv, type Options } from "ajv";
import type { FastifyInstance } from "fastify";

const shared: Options = { allErrors: false, useDefaults: true, strict: false };

export function installValidation(http: FastifyInstance): void {
  const strict = new Ajv({ ...shared, coerceTypes: false, removeAdditional: false });
  const textual = new Ajv({ ...shared, coerceTypes: "array", removeAdditional: false });
  http.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? strict : textual).compile(schema as object),
  );
}
