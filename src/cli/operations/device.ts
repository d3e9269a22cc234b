import { operatorCaller } from "../../policy/index.js";
import type { DeviceState } from "../../domain/index.js";
import {
  deviceAttributeRules,
  deviceJson,
  lifecycleEventJson,
  type OperatorCommand,
} from "../../registry/index.js";
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
        firmwareVersion?: string | undefined;
        groups?: string[] | undefined;
        /** key=value each */
        labels?: string[] | undefined;
      },
      context,
    ) =>
      deviceJson(
        await app.devices.register(
          {
            ...input,
            labels: Object.fromEntries(
              (input.labels ?? []).map((l) => {
                const { key, value } = deviceAttributeRules.parseLabel(l);
                return [key, value];
              }),
            ),
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
    run: async (
      app,
      input: {
        limit: number;
        after?: string | undefined;
        state?: string | undefined;
        tenant?: string | undefined;
        region?: string | undefined;
        model?: string | undefined;
        firmwareVersion?: string | undefined;
        group?: string | undefined;
        /** key=value */
        label?: string | undefined;
        /** ISO 8601 */
        certificateExpiringBefore?: string | undefined;
      },
      context,
    ) => {
      const { label, certificateExpiringBefore, state, ...rest } = input;
      const devices = await app.devices.list(
        {
          ...rest,
          state: state as DeviceState | undefined,
          label: label === undefined ? undefined : deviceAttributeRules.parseLabel(label),
          certificateExpiringBefore:
            certificateExpiringBefore === undefined ? undefined : new Date(certificateExpiringBefore),
        },
        operatorCaller(context.actor),
      );
      return devices.map(deviceJson);
    },
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
