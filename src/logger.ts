/**
 * The one structured logger (pino). Secrets are redacted by configuration, not by care at each call:
 * tokens, passphrases, authorization headers and anything named like key material.
 */
import { pino, type DestinationStream, type Logger } from "pino";

export const redactedPaths = [
  "req.headers.authorization",
  "headers.authorization",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "passphrase",
  "*.passphrase",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "privateKey",
  "*.privateKey",
  "privateKeyPem",
  "*.privateKeyPem",
  "kek",
  "*.kek",
  // A PKCS#11 user PIN, and the token settings that hold one (config.pkcs11.pin).
  "pin",
  "*.pin",
  "pkcs11.pin",
  "*.pkcs11.pin",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: "keyfleet" }, redact: { paths: redactedPaths, censor: "[redacted]" } },
    destination,
  );
}

export type { Logger };
