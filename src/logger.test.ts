import { Writable } from "node:stream";
import { expect, test } from "vitest";
import { createLogger } from "./logger.js";

test("key material, passphrases, tokens and authorization headers never reach the log", () => {
  let out = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += String(chunk);
      done();
    },
  });
  const logger = createLogger("info", sink);
  const secrets = {
    privateKey: "SECRET-1",
    privateKeyPem: `-----BEGIN ${"PRIVATE"} KEY-----SECRET-2`, // a marker only, built here, not key material
    passphrase: "SECRET-3",
    token: "kf_SECRET-4",
    secret: "SECRET-5",
    kek: "SECRET-6",
    authorization: "Bearer SECRET-7",
    pin: "SECRET-9",
  };
  logger.info(secrets, "top level");
  logger.info({ identity: secrets, req: { headers: { authorization: "Bearer SECRET-8" } } }, "nested");
  logger.info({ config: { pkcs11: { module: "m.so", token: "t", pin: { value: "SECRET-10" } } } }, "config");
  expect(out).toContain("top level");
  expect(out).toContain("nested");
  expect(out).toContain("[redacted]");
  expect(out).not.toMatch(/SECRET|PRIVATE KEY/);
});
