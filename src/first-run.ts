/**
 * First start on an empty data directory: create the CA hierarchy (with the public URL its
 * certificates carry) and the first admin token. The token goes to a 0600 file and only its path is
 * printed; it is never logged. Like every token it expires (policy's default lifetime).
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
  readonly adminTokenExpiresAt: string | null | undefined;
}

export async function ensureInitialized(
  app: App,
  options: {
    algorithm: KeyAlgorithmId;
    organization?: string;
    publicUrl?: string | undefined;
    /** Who starts the authority, for the audit log: `cli:<user>` for `init`, `system` for a server. */
    actor?: string;
  },
): Promise<FirstRun> {
  // Several servers starting together on one database make one hierarchy and one first token.
  const cas = await app.authority.initIfEmpty(options);
  if (!cas && !(await app.authority.publicUrlRecorded())) {
    // Made before the public URL lived in the database: record the one this process uses now.
    await app.authority.setPublicUrl(
      await app.authority.publicUrl(),
      "keyfleet serve (first start with settings)",
    );
  }
  const first = await app.tokens.createFirstAdmin();
  if (!first) return { cas, adminTokenFile: undefined, adminTokenExpiresAt: undefined };
  const { token, expiresAt } = first;
  const adminTokenFile = join(app.config.dataDir, "admin-token");
  await writeFile(adminTokenFile, token + "\n", { mode: 0o600 });
  return { cas, adminTokenFile, adminTokenExpiresAt: expiresAt };
}
