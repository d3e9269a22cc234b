/** An authority on a real test database with a real software key store (KEK from a passphrase). */
import { auditLog } from "../../src/audit/index.js";
import type { KeyAlgorithmId } from "../../src/crypto/index.js";
import { KeyStoreRouter, SoftwareKeyStore } from "../../src/crypto/index.js";
import { createAuthority, keyCustody, type Authority } from "../../src/ca/index.js";
import { systemClock, type Clock } from "../../src/domain/index.js";
import { databaseSealedKeyVault, type Database } from "../../src/store/index.js";

export const testPassphrase = "test passphrase: correct horse battery staple";
export const testPublicUrl = "http://pki.example.test:8080";

export function testAuthority(
  database: Database,
  clock: Clock = systemClock,
  passphrase = testPassphrase,
): Authority {
  const keyStore = new KeyStoreRouter(
    new SoftwareKeyStore(databaseSealedKeyVault(database.db), { source: "passphrase", passphrase }),
  );
  const audit = auditLog({ database, clock });
  return createAuthority({
    database,
    keyStore,
    custody: keyCustody({ database, keyStore, clock, audit }),
    clock,
    defaultPublicUrl: testPublicUrl,
    audit,
  });
}

export async function initializedAuthority(
  database: Database,
  algorithm: KeyAlgorithmId = "p256",
): Promise<Authority> {
  const authority = testAuthority(database);
  await authority.init({ algorithm });
  return authority;
}
