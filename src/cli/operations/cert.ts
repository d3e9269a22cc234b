import { certificateJson } from "../../ca/index.js";
import { operatorCaller } from "../../policy/index.js";
import { operation } from "./operation.js";

export const certOperations = {
  "cert.issue": operation({
    run: async (
      app,
      input: {
        /** The CSR file's bytes, base64 (PEM or DER). */
        csr: string;
        profile?: string | undefined;
        deviceId?: string | undefined;
        requestId?: string | undefined;
        validitySeconds?: number | undefined;
      },
      context,
    ) =>
      certificateJson(
        await app.devices.issue(
          {
            csr: new Uint8Array(Buffer.from(input.csr, "base64")),
            profile: input.profile,
            deviceId: input.deviceId,
            requestId: input.requestId,
            validitySeconds: input.validitySeconds,
          },
          operatorCaller(context.actor),
        ),
      ),
  }),
  "cert.show": operation({
    run: async (app, input: { serial: string }) =>
      certificateJson(await app.authority.certificate(input.serial)),
  }),
  "cert.list": operation({
    run: async (app, input: { deviceId?: string | undefined; limit: number; after?: string | undefined }) => {
      const page = await app.authority.certificates(input);
      return { items: page.items.map(certificateJson), next: page.next ?? null };
    },
  }),
};
