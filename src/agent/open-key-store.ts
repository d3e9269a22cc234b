/** Opens the device key store the state's settings name; the PKCS#11 PIN is read from its file here. */
import { readFile } from "node:fs/promises";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { DeviceKeyStore } from "./device-key-store.js";
import { FileKeyStore } from "./file-key-store.js";
import { Pkcs11DeviceKeyStore } from "./pkcs11-device-key-store.js";
import type { KeyStoreSettings, StateDirectory } from "./state-directory.js";

export async function openDeviceKeyStore(
  settings: KeyStoreSettings,
  state: StateDirectory,
): Promise<DeviceKeyStore> {
  switch (settings.kind) {
    case "file":
      return new FileKeyStore(state.keysPath);
    case "pkcs11": {
      let pin: string;
      try {
        pin = (await readFile(settings.pinFile, "utf8")).replace(/\r?\n$/, "");
      } catch (cause) {
        throw new KeyfleetError(
          "invalid-configuration",
          `cannot read the PKCS#11 PIN file ${quoted(settings.pinFile, 200)}`,
          { cause },
        );
      }
      return Pkcs11DeviceKeyStore.open(
        { module: settings.module, token: settings.token, pin },
        settings.label,
      );
    }
  }
}
