import { parseScopes } from "../../policy/index.js";
import { operation } from "./operation.js";

export const tokenOperations = {
  "token.create": operation({
    run: (
      app,
      input: {
        role: string;
        /** KEY=VALUE pairs as typed (`--scope tenant=acme`). */
        scopes: string[];
        description?: string | undefined;
        ttlSeconds: number | null | undefined;
      },
      context,
    ) => app.tokens.create({ ...input, scopes: parseScopes(input.scopes), actor: context.actor }),
  }),
  "token.list": operation({
    run: (app, input: { limit: number; after?: string | undefined }) => app.tokens.list(input),
  }),
  "token.revoke": operation({
    run: (app, input: { id: string }, context) => app.tokens.revoke(input.id, context.actor),
  }),
  "token.rotate": operation({
    run: (app, input: { id: string; ttlSeconds: number | null | undefined }, context) =>
      app.tokens.rotate(input.id, { ttlSeconds: input.ttlSeconds, actor: context.actor }),
  }),
};
