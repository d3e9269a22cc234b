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
import type { KeyAlgorithmId, KeyStoreKind } from "./crypto/index.js";
import { checkSecretPathFree, createSecretFile } from "./data-directory.js";
import type { CreatedToken } from "./policy/index.js";

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
    /** Where the CA keys are generated (`init --hsm`: the PKCS#11 token); software by default. */
    keyStore?: KeyStoreKind;
  },
): Promise<FirstRun> {
  const adminTokenFile = join(app.config.dataDir, "admin-token");
  const mayMakeToken = (await app.tokens.count()) === 0;
  if (mayMakeToken) await checkSecretPathFree(adminTokenFile, "the first admin token");
  // Several servers starting together on one database make one hierarchy and one first token.
  const cas = await app.authority.initIfEmpty(options);
  if (!cas && !(await app.authority.publicUrlRecorded())) {
    // Made before the public URL lived in the database: record the one this process uses now.
    await app.authority.setPublicUrl(
      await app.authority.publicUrl(),
      "keyfleet serve (first start with settings)",
    );
  }
  if (!mayMakeToken) return { cas, adminTokenFile: undefined, adminTokenExpiresAt: undefined };
  // The file first (ours alone, or refused), then the token; a token another process made a
  // moment ago means no file here.
  let first: CreatedToken | undefined;
  const madeElsewhere = new Error("another process made the first admin token");
  await createSecretFile(adminTokenFile, "the first admin token", async () => {
    first = await app.tokens.createFirstAdmin();
    if (!first) throw madeElsewhere;
    return first.token + "\n";
  }).catch((e: unknown) => {
    if (e !== madeElsewhere) throw e;
  });
  if (!first) return { cas, adminTokenFile: undefined, adminTokenExpiresAt: undefined };
  return { cas, adminTokenFile, adminTokenExpiresAt: (first as CreatedToken).expiresAt };
}
