import { certificateJson, parseReason } from "../../ca/index.js";
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
  "cert.revoke": operation({
    run: async (
      app,
      input: {
        serial: string;
        reason: string;
        invalidityDate?: string | undefined;
        comment?: string | undefined;
      },
      context,
    ) => {
      const outcome = await app.devices.changeCertificateStatus(
        input.serial,
        { action: "revoke", reason: parseReason(input.reason) },
        operatorCaller(context.actor),
        {
          invalidityDate: input.invalidityDate === undefined ? undefined : new Date(input.invalidityDate),
          comment: input.comment,
        },
      );
      return { ...certificateJson(outcome.certificate), changed: outcome.changed };
    },
  }),
  "cert.release": operation({
    run: async (app, input: { serial: string }, context) => {
      const outcome = await app.devices.changeCertificateStatus(
        input.serial,
        { action: "release" },
        operatorCaller(context.actor),
      );
      return { ...certificateJson(outcome.certificate), changed: outcome.changed };
    },
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
