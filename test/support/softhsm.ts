/**
 * A real SoftHSM2 token per test, standing in for an HSM or a device's secure element: its own
 * token directory and configuration in a temporary directory (SOFTHSM2_CONF, which SoftHSM reads at
 * C_Initialize), initialized with `softhsm2-util --init-token --free`. A test opens its stores after
 * `softHsmToken()` and closes them before `dispose()`, so the library is finalized between tokens.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Debian's path of the SoftHSM2 module (package softhsm2). */
export const softHsmModule = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
].find((p) => existsSync(p))!;

export interface SoftHsmToken {
  readonly module: string;
  readonly token: string;
  readonly pin: string;
  readonly soPin: string;
  readonly dir: string;
  /** The environment a child process (pkcs11-tool, the agent CLI) needs to see this token. */
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

export interface SoftHsmOptions {
  /** More lines for softhsm2.conf (`slots.mechanisms = -CKM_…` takes mechanisms away). */
  readonly conf?: string;
  /** false: leave the slot's token uninitialized (what a token fresh from the box is). */
  readonly initialize?: boolean;
}

export async function softHsmToken(
  label = "keyfleet-test",
  options: SoftHsmOptions = {},
): Promise<SoftHsmToken> {
  if (!softHsmModule)
    throw new Error("SoftHSM2 is not installed: run `npm run pretest` (apt package softhsm2)");
  const dir = await mkdtemp(join(tmpdir(), "keyfleet-softhsm-"));
  const tokens = join(dir, "tokens");
  await mkdir(tokens);
  const conf = join(dir, "softhsm2.conf");
  await writeFile(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n${options.conf ?? ""}\n`,
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  const pin = "1234-device-pin";
  const soPin = "5678-security-officer";
  if (options.initialize !== false) {
    await exec(
      "softhsm2-util",
      ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin],
      {
        env: { ...process.env, SOFTHSM2_CONF: conf },
      },
    );
  }
  return {
    module: softHsmModule,
    token: label,
    pin,
    soPin,
    dir,
    env: { SOFTHSM2_CONF: conf },
    async dispose() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
