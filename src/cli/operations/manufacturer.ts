import { operatorCaller } from "../../policy/index.js";
import type { Manufacturer } from "../../registry/index.js";
import { operation } from "./operation.js";

const manufacturerJson = (m: Manufacturer) => ({
  id: m.id,
  name: m.name,
  description: m.description,
  createdAt: m.createdAt.toISOString(),
  certificates: m.certificates.map((c) => ({
    sha256: c.sha256,
    subject: c.subject,
    notAfter: c.notAfter.toISOString(),
    addedBy: c.addedBy,
    addedAt: c.addedAt.toISOString(),
  })),
});

export const manufacturerOperations = {
  "manufacturer.add": operation({
    run: async (
      app,
      input: { name: string; description?: string | undefined; certificates: string[] },
      context,
    ) =>
      manufacturerJson(
        await app.manufacturers.add(operatorCaller(context.actor), {
          name: input.name,
          description: input.description,
          certificates: input.certificates.map((c) => Buffer.from(c, "base64")),
        }),
      ),
  }),
  "manufacturer.add-ca": operation({
    run: async (app, input: { manufacturer: string; certificate: string }, context) =>
      manufacturerJson(
        await app.manufacturers.addCertificate(
          operatorCaller(context.actor),
          input.manufacturer,
          Buffer.from(input.certificate, "base64"),
        ),
      ),
  }),
  "manufacturer.show": operation({
    run: async (app, input: { manufacturer: string }, context) =>
      manufacturerJson(await app.manufacturers.get(operatorCaller(context.actor), input.manufacturer)),
  }),
  "manufacturer.list": operation({
    run: async (app, input: { limit: number; after?: string | undefined }, context) => ({
      items: (await app.manufacturers.list(operatorCaller(context.actor), input)).map(manufacturerJson),
    }),
  }),
};
