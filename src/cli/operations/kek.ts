import { operation } from "./operation.js";

export const kekOperations = {
  "kek.seal": operation({
    // Read the keys with the development KEK file, whatever KEYFLEET_PASSPHRASE says: it is the new key.
    open: { developmentKek: true },
    run: (app, input: { passphrase: string }) => app.sealKeysUnderPassphrase(String(input.passphrase ?? "")),
  }),
};
