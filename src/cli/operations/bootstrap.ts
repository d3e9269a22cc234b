import { operatorCaller } from "../../policy/index.js";
import { operation } from "./operation.js";

export const bootstrapOperations = {
  "bootstrap.create": operation({
    run: async (app, input: { deviceId: string; ttlSeconds?: number | undefined }, context) => {
      const t = await app.bootstrapTokens.create(operatorCaller(context.actor), input);
      return { id: t.id, deviceId: t.deviceId, token: t.token, expiresAt: t.expiresAt.toISOString() };
    },
  }),
};
