/**
 * First start on an empty data directory: create the CA hierarchy (with the public URL its
 * certificates carry) and the first admin token. The token goes to a new 0600 file and only its
 * path is printed; it is never logged. Like every token it expires (policy's default lifetime).
 * A file or link already at that path is refused before anything is made, not written through or
 * kept with its mode: on an authority with no token yet it can only be planted or left from another
 * database, and either way its owner should look at it.
 */
import { join } from "node:path";
import type { App } from "./app.js";
import type { CaSummary } from "./ca/index.js";
import type { KeyAlgorithmId } from "./crypto/index.js";
import { checkSecretPathFree, createSecretFile } from "./data-directory.js";

export interface FirstRun {
  readonly cas: CaSummary[] | undefined;
  /** Where the first admin token was written, if this run wrote it. */
  readonly adminTokenFile: string | undefined;
  readonly adminTokenExpiresAt: string | null | undefined;
}

export async function ensureInitialized(
  app: App,
  options: { algorithm: KeyAlgorithmId; organization?: string; publicUrl?: string | undefined },
): Promise<FirstRun> {
  const adminTokenFile = join(app.config.dataDir, "admin-token");
  const makesToken = (await app.tokens.count()) === 0;
  if (makesToken) await checkSecretPathFree(adminTokenFile, "the first admin token");
  let cas: CaSummary[] | undefined;
  if (!(await app.authority.initialized())) cas = await app.authority.init(options);
  else if (!(await app.authority.publicUrlRecorded())) {
    // Made before the public URL lived in the database: record the one this process uses now.
    await app.authority.setPublicUrl(
      await app.authority.publicUrl(),
      "keyfleet serve (first start with settings)",
    );
  }
  if (!makesToken) return { cas, adminTokenFile: undefined, adminTokenExpiresAt: undefined };
  let expiresAt: string | null = null;
  await createSecretFile(adminTokenFile, "the first admin token", async () => {
    const created = await app.tokens.create({ role: "admin", description: "first admin token" });
    expiresAt = created.expiresAt;
    return created.token + "\n";
  });
  return { cas, adminTokenFile, adminTokenExpiresAt: expiresAt };
}
