/**
 * The PKCS#11 token this process is configured with (KEYFLEET_PKCS11_*), for the key-store router
 * app.ts builds (DESIGN §6) beside the software store. It is opened and logged in first thing, so
 * that a wrong module, token or PIN stops the command at once, naming the setting to fix, before a
 * data directory or a database is touched.
 */
import { statSync } from "node:fs";
import type { Config, Pkcs11Settings } from "./config.js";
import { readOwnFile } from "./data-directory.js";
import { openPkcs11KeyStore, type Pkcs11KeyStore, type Pkcs11Part } from "./crypto/index.js";
import { KeyfleetError, isKeyfleetError } from "./domain/index.js";

/** The setting that fixes each part of opening a token (pkcs11-module.ts names the part). */
const settingFor: Readonly<Record<Pkcs11Part, string>> = {
  module: "check KEYFLEET_PKCS11_MODULE",
  token: "check KEYFLEET_PKCS11_TOKEN",
  pin: "check KEYFLEET_PKCS11_PIN (or KEYFLEET_PKCS11_PIN_FILE)",
};

/** The configured token, logged in; undefined when none is configured. */
export async function openConfiguredToken(config: Config): Promise<Pkcs11KeyStore | undefined> {
  return config.pkcs11 ? openToken(config.pkcs11) : undefined;
}

async function openToken(settings: Pkcs11Settings): Promise<Pkcs11KeyStore> {
  const pin = "value" in settings.pin ? settings.pin.value : readPinFile(settings.pin.file);
  try {
    return await openPkcs11KeyStore({ module: settings.module, token: settings.token, pin });
  } catch (e) {
    const part = isKeyfleetError(e) ? (e.detail?.pkcs11 as Pkcs11Part | undefined) : undefined;
    if (!isKeyfleetError(e) || part === undefined) throw e;
    throw new KeyfleetError(e.code, `${e.message}: ${settingFor[part]}`, { cause: e });
  }
}

/** The PIN file's one line; refused unless it is this user's and readable by nobody else. */
function readPinFile(path: string): string {
  const text = readOwnFile(path);
  if (text === undefined) {
    throw new KeyfleetError("invalid-configuration", `KEYFLEET_PKCS11_PIN_FILE: there is no file ${path}`);
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new KeyfleetError(
      "invalid-configuration",
      `KEYFLEET_PKCS11_PIN_FILE: ${path} is readable by others: run \`chmod 600 ${path}\``,
    );
  }
  const pin = text.replace(/\r?\n$/, "");
  if (pin === "" || /[\r\n]/.test(pin)) {
    throw new KeyfleetError(
      "invalid-configuration",
      `KEYFLEET_PKCS11_PIN_FILE: ${path} must hold the PIN on one line`,
    );
  }
  return pin;
}
