/**
 * First start on an empty data directory: create the CA hierarchy and the first admin token. The
 * token goes to a 0600 file and only its path is printed; it is never logged.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { App } from "./app.js";
import type { CaSummary } from "./ca/index.js";
import type { KeyAlgorithmId } from "./crypto/index.js";

export interface FirstRun {
  readonly cas: CaSummary[] | undefined;
  /** Where the first admin token was written, if this run wrote it. */
  readonly adminTokenFile: string | undefined;
}

export async function ensureInitialized(
  app: App,
  options: { algorithm: KeyAlgorithmId; organization?: string },
): Promise<FirstRun> {
  const cas = (await app.authority.initialized()) ? undefined : await app.authority.init(options);
  let adminTokenFile: string | undefined;
  if ((await app.tokens.count()) === 0) {
    const { token } = await app.tokens.create({ role: "admin", description: "first admin token" });
    adminTokenFile = join(app.config.dataDir, "admin-token");
    await writeFile(adminTokenFile, token + "\n", { mode: 0o600 });
  }
  return { cas, adminTokenFile };
}
