import { operatorCaller } from "../../policy/index.js";
import { operation } from "./operation.js";

export const policyOperations = {
  /** Checks a document and, unless it is a dry run, makes it the next version. */
  "policy.apply": operation({
    run: async (
      app,
      input: { document: string; comment?: string | undefined; dryRun?: boolean | undefined },
      context,
    ) => {
      const caller = operatorCaller(context.actor);
      if (input.dryRun) {
        app.policies.check(caller, input.document);
        return { applied: false as const };
      }
      return {
        applied: true as const,
        version: await app.policies.apply(caller, input.document, input.comment),
      };
    },
  }),
  "policy.show": operation({
    run: async (app, input: { version?: number | undefined }, context) =>
      app.policies.show(operatorCaller(context.actor), input.version),
  }),
  "policy.history": operation({
    run: async (app, input: { limit: number; before?: number | undefined }, context) => {
      const page = await app.policies.history(operatorCaller(context.actor), input);
      return { items: page.items, next: page.next ?? null };
    },
  }),
  "policy.diff": operation({
    run: async (app, input: { from: number; to: number }, context) => ({
      diff: await app.policies.diff(operatorCaller(context.actor), input.from, input.to),
    }),
  }),
};
