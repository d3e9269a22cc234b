import { operatorCaller } from "../../policy/index.js";
import { groupJson } from "../../registry/index.js";
import { operation } from "./operation.js";

export const groupOperations = {
  "group.list": operation({
    run: async (app, input: { limit: number; after?: string | undefined }, context) => {
      const page = await app.devices.groups(operatorCaller(context.actor), input);
      return { items: page.items.map(groupJson), next: page.next ?? null };
    },
  }),
};
