/**
 * What an operator gets wrong about a PKCS#11 token, each refused in one line
 * (`keyfleet: … (code)`) that names the setting to fix and never the PIN, with nothing changed: no
 * data directory left by a failed `init --hsm`, no key left in the token, no certificate issued.
 * Module not found, token not found, token not initialized, wrong PIN, mechanism unsupported, key
 * not found, and a key whose store this process is not configured with. SoftHSM2 tokens of the
 * test's own (SOFTHSM2_CONF).
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { runCli, type CliResult } from "./support/cli.js";
import { opensslCsr, workdir } from "./support/openssl.js";
import { softHsmToken, type SoftHsmOptions, type SoftHsmToken } from "./support/softhsm.js";

const exec = promisify(execFile);

let root: string;
let tokens: SoftHsmToken[];
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "keyfleet-hsm-diag-"));
  tokens = [];
});
afterEach(async () => {
  for (const t of tokens.reverse()) await t.dispose();
  await rm(root, { recursive: true, force: true });
});

async function token(options: SoftHsmOptions = {}): Promise<SoftHsmToken> {
  const t = await softHsmToken("keyfleet-ca", options);
  tokens.push(t);
  return t;
}

// A passphrase for the software store (TLS keys), so no development-KEK warning shares stderr.
const passphrase = "hsm diagnostics passphrase";

const envOf = (t: SoftHsmToken, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...t.env,
  KEYFLEET_PASSPHRASE: passphrase,
  KEYFLEET_PKCS11_MODULE: t.module,
  KEYFLEET_PKCS11_TOKEN: t.token,
  KEYFLEET_PKCS11_PIN: t.pin,
  ...overrides,
});

const data = () => join(root, "data");
const init = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  runCli(["--data", data(), "init", "--hsm", "--public-url", "http://pki.hsm.test", ...args], env);

/** One line on stderr with the code, nothing on stdout, exit 1, and no PIN anywhere. */
function refused(res: CliResult, message: RegExp, code: string, secrets: readonly string[] = []): void {
  expect(res.stdout).toBe("");
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(new RegExp(`^keyfleet: [^\\n]+ \\(${code}\\)\\n$`));
  expect(res.stderr).toMatch(message);
  for (const s of secrets) expect(res.stderr).not.toContain(s);
}

async function noDataDirectory(): Promise<void> {
  await expect(stat(data())).rejects.toMatchObject({ code: "ENOENT" });
}

async function tokenObjects(t: SoftHsmToken): Promise<string> {
  const { stdout } = await exec(
    "pkcs11-tool",
    ["--module", t.module, "--token-label", t.token, "--login", "--pin", t.pin, "--list-objects"],
    { env: { ...process.env, ...t.env } },
  );
  return stdout;
}

describe("keyfleet init --hsm refuses, in one line, and leaves nothing behind", () => {
  test("without a PKCS#11 token configured: names the settings to set", async () => {
    refused(
      await init({}),
      /needs the PKCS#11 token, which is not configured: set KEYFLEET_PKCS11_MODULE/,
      "invalid-configuration",
    );
    await noDataDirectory();
  });

  test("a PKCS#11 setting without the others configures nothing: refused, naming what is missing", async () => {
    const t = await token();
    const res = await init({ ...t.env, KEYFLEET_PKCS11_TOKEN: t.token, KEYFLEET_PKCS11_PIN: t.pin });
    refused(
      res,
      /missing: KEYFLEET_PKCS11_MODULE$|missing: KEYFLEET_PKCS11_MODULE \(/,
      "invalid-configuration",
      [t.pin],
    );
    refused(
      await init(envOf(t, { KEYFLEET_PKCS11_PIN_FILE: join(root, "pin") })),
      /KEYFLEET_PKCS11_PIN and KEYFLEET_PKCS11_PIN_FILE are both set/,
      "invalid-configuration",
      [t.pin],
    );
    await noDataDirectory();
  });

  test("module not found", async () => {
    const t = await token();
    const res = await init(envOf(t, { KEYFLEET_PKCS11_MODULE: join(root, "no-such-pkcs11.so") }));
    refused(
      res,
      /cannot load the PKCS#11 module ".*no-such-pkcs11\.so": .*: check KEYFLEET_PKCS11_MODULE/,
      "invalid-configuration",
      [t.pin],
    );
    await noDataDirectory();
  });

  test("token not found: the labels the module has are named", async () => {
    const t = await token();
    const res = await init(envOf(t, { KEYFLEET_PKCS11_TOKEN: "other-token" }));
    refused(
      res,
      /no PKCS#11 token labelled "other-token": the module has "keyfleet-ca": check KEYFLEET_PKCS11_TOKEN/,
      "invalid-configuration",
      [t.pin],
    );
    await noDataDirectory();
  });

  test("token not initialized", async () => {
    const t = await token({ initialize: false });
    refused(
      await init(envOf(t)),
      /the module's token is not initialized \(initialize it first: softhsm2-util --init-token/,
      "invalid-configuration",
      [t.pin],
    );
    await noDataDirectory();
  });

  test("wrong PIN, from the environment or from a file: the PIN is never echoed", async () => {
    const t = await token();
    const wrong = "0000-not-the-pin";
    refused(
      await init(envOf(t, { KEYFLEET_PKCS11_PIN: wrong })),
      /the token refused the PIN \(CKR_PIN_INCORRECT\): check KEYFLEET_PKCS11_PIN/,
      "key-store-locked",
      [wrong, t.pin],
    );
    const pinFile = join(root, "pin");
    await writeFile(pinFile, `${wrong}\n`, { mode: 0o600 });
    refused(
      await init(envOf(t, { KEYFLEET_PKCS11_PIN: "", KEYFLEET_PKCS11_PIN_FILE: pinFile })),
      /the token refused the PIN/,
      "key-store-locked",
      [wrong, t.pin],
    );
    await writeFile(pinFile, `${t.pin}\n`);
    await chmod(pinFile, 0o644);
    refused(
      await init(envOf(t, { KEYFLEET_PKCS11_PIN: "", KEYFLEET_PKCS11_PIN_FILE: pinFile })),
      /KEYFLEET_PKCS11_PIN_FILE: .* is readable by others: run `chmod 600/,
      "invalid-configuration",
      [t.pin],
    );
    await rm(pinFile);
    await noDataDirectory();
    expect(await tokenObjects(t)).toBe(""); // the right PIN still opens it, and it holds nothing
  });

  test("mechanism unsupported: a token without ECDSA is refused for a P-256 CA, and keeps no key", async () => {
    const t = await token({ conf: "slots.mechanisms = CKM_RSA_PKCS,CKM_RSA_PKCS_KEY_PAIR_GEN" });
    refused(
      await init(envOf(t), "--algorithm", "p256"),
      /the PKCS#11 token "keyfleet-ca" cannot generate and sign with .*P-256.* keys \(no mechanism CKM_EC(DSA)?_KEY_PAIR_GEN, CKM_ECDSA\): choose another --algorithm/,
      "unsupported-algorithm",
      [t.pin],
    );
    await noDataDirectory();
    expect(await tokenObjects(t)).toBe("");
  });
});

describe("a CA key that cannot be reached is refused in one line, and nothing is issued", () => {
  test("key not found (deleted from the token), and a key in a token this process is not configured with", async () => {
    const t = await token();
    const env = envOf(t);
    const made = JSON.parse((await init({ ...env }, "--json")).stdout) as {
      cas: { id: string; kind: string }[];
    };
    const issuing = made.cas.find((c) => c.kind === "intermediate")!.id;
    const dir = await workdir();
    try {
      const csr = await dir.write("d.csr", await opensslCsr(dir, "p256", "/CN=d"));
      const kf = (e: NodeJS.ProcessEnv, ...args: string[]) => runCli(["--data", data(), ...args], e);
      const count = async () =>
        (JSON.parse((await kf(env, "--json", "cert", "list")).stdout) as { items: unknown[] }).items.length;
      const before = await count();

      refused(
        await kf({ KEYFLEET_PASSPHRASE: passphrase }, "cert", "issue", "--csr", csr),
        new RegExp(
          `the key of CA ${issuing}: the key "pkcs11:token=keyfleet-ca;object=${issuing}%20issuing;id=[^"]+" needs the PKCS#11 token, which is not configured: set KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN and KEYFLEET_PKCS11_PIN`,
        ),
        "invalid-configuration",
      );

      await exec(
        "pkcs11-tool",
        [
          "--module",
          t.module,
          "--token-label",
          t.token,
          "--login",
          "--pin",
          t.pin,
          "--delete-object",
          "--type",
          "privkey",
          "--label",
          `${issuing} issuing`,
        ],
        { env: { ...process.env, ...t.env } },
      );
      refused(
        await kf(env, "cert", "issue", "--csr", csr),
        new RegExp(
          `the key of CA ${issuing}: no private key "pkcs11:token=keyfleet-ca;object=${issuing}%20issuing;id=[^"]+" in the PKCS#11 token "keyfleet-ca"`,
        ),
        "key-not-found",
        [t.pin],
      );
      expect(await count()).toBe(before);
    } finally {
      await dir.dispose();
    }
  });
});
