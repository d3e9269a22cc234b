import { keyAlgorithmFor } from "../../crypto/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { ensureInitialized } from "../../first-run.js";
import { caJson } from "./ca.js";
import { operation } from "./operation.js";

export const hsmInit = "`keyfleet init --hsm`";

export const initOperations = {
  init: operation({
    open: { create: true },
    run: async (
      app,
      input: { algorithm: string; organization: string; publicUrl?: string | undefined; hsm?: boolean },
      context,
    ) => {
      const algorithm = keyAlgorithmFor(input.algorithm, "ca").id;
      const keyStore = input.hsm === true ? "pkcs11" : "software";
      app.keyStore.store(keyStore, hsmInit); // refused, naming the settings, before anything is made
      if (await app.authority.initialized()) {
        throw new KeyfleetError("conflict", "already initialized: the CAs exist (see `keyfleet ca list`)");
      }
      const run = await ensureInitialized(app, {
        organization: input.organization,
        publicUrl: input.publicUrl,
        algorithm,
        keyStore,
        actor: context.actor,
      });
      return {
        cas: (run.cas ?? []).map(caJson),
        keyStore,
        token: keyStore === "pkcs11" ? (app.config.pkcs11?.token ?? null) : null,
        adminTokenFile: run.adminTokenFile ?? null,
      };
    },
  }),
};
