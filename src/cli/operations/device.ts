import { operatorCaller } from "../../policy/index.js";
import { deviceJson, lifecycleEventJson, type OperatorCommand } from "../../registry/index.js";
import { operation } from "./operation.js";

export const deviceOperations = {
  "device.register": operation({
    run: async (
      app,
      input: {
        serialNumber: string;
        model?: string | undefined;
        manufacturer?: string | undefined;
        tenant?: string | undefined;
        region?: string | undefined;
        /** The IDevID file's bytes, base64 (PEM or DER). */
        idevid?: string | undefined;
      },
      context,
    ) =>
      deviceJson(
        await app.devices.register(
          {
            ...input,
            idevid:
              input.idevid === undefined ? undefined : new Uint8Array(Buffer.from(input.idevid, "base64")),
          },
          operatorCaller(context.actor),
        ),
      ),
  }),
  "device.show": operation({
    run: async (app, input: { id: string }, context) =>
      deviceJson(await app.devices.get(input.id, operatorCaller(context.actor))),
  }),
  "device.list": operation({
    run: async (app, input: { limit: number; after?: string | undefined }, context) =>
      (await app.devices.list(input, operatorCaller(context.actor))).map(deviceJson),
  }),
  "device.history": operation({
    run: async (app, input: { id: string; limit: number; after?: string | undefined }, context) => {
      const page = await app.devices.history(input.id, operatorCaller(context.actor), input);
      return { items: page.items.map(lifecycleEventJson), next: page.next ?? null };
    },
  }),
  "device.command": operation({
    run: async (
      app,
      input: {
        id: string;
        command: OperatorCommand;
        reason?: string | undefined;
        /** finalize: revoke with keyCompromise rather than cessationOfOperation. */
        compromised?: boolean | undefined;
        ifMatch?: number | undefined;
      },
      context,
    ) => {
      const command =
        input.command === "finalize"
          ? { kind: "finalize" as const, compromised: input.compromised }
          : { kind: input.command };
      const result = await app.devices.apply(input.id, command, operatorCaller(context.actor), {
        reason: input.reason,
        ifMatch: input.ifMatch,
      });
      return { device: deviceJson(result.device), event: lifecycleEventJson(result.event) };
    },
  }),
};
