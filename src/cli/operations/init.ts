import { keyAlgorithmFor } from "../../crypto/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { ensureInitialized } from "../../first-run.js";
import { caJson } from "./ca.js";
import { operation } from "./operation.js";

export const initOperations = {
  init: operation({
    open: { create: true },
    run: async (
      app,
      input: { algorithm: string; organization: string; publicUrl?: string | undefined },
      context,
    ) => {
      const algorithm = keyAlgorithmFor(input.algorithm, "ca").id;
      if (await app.authority.initialized()) {
        throw new KeyfleetError("conflict", "already initialized: the CAs exist (see `keyfleet ca list`)");
      }
      const run = await ensureInitialized(app, { ...input, algorithm, actor: context.actor });
      return { cas: (run.cas ?? []).map(caJson), adminTokenFile: run.adminTokenFile ?? null };
    },
  }),
};
