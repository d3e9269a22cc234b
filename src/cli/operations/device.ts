import type { Device } from "../../registry/index.js";
import { operation } from "./operation.js";

export function deviceJson(d: Device) {
  return { ...d, createdAt: d.createdAt.toISOString() };
}
export type DeviceJson = ReturnType<typeof deviceJson>;

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
    ) =>
      deviceJson(
        await app.devices.register({
          ...input,
          idevid:
            input.idevid === undefined ? undefined : new Uint8Array(Buffer.from(input.idevid, "base64")),
        }),
      ),
  }),
  "device.show": operation({
    run: async (app, input: { id: string }) => deviceJson(await app.devices.get(input.id)),
  }),
  "device.list": operation({
    run: async (app, input: { limit: number; after?: string | undefined }) =>
      (await app.devices.list(input)).map(deviceJson),
  }),
};
