/**
 * A Signer whose private key stays in a PKCS#11 token: the host hashes, the token signs (C_SignInit
 * and C_Sign on a session borrowed from the pool, so signers on one token sign concurrently), and the
 * token's output is turned into the X.509 encoding (ECDSA r ‖ s to DER).
 */
import type { KeyAlgorithmId } from "./algorithms.js";
import type { Signer } from "./key-store.js";
import type { Pkcs11Handle } from "./pkcs11-module.js";
import { pkcs11KeyType, signatureAlgorithmOf } from "./pkcs11-key-types.js";
import type { Pkcs11SessionPool } from "./pkcs11-session-pool.js";
import type { Cryptoki } from "./pkcs11-module.js";

export function pkcs11Signer(
  cryptoki: Cryptoki,
  pool: Pkcs11SessionPool,
  privateKey: Pkcs11Handle,
  keyAlgorithm: KeyAlgorithmId,
  publicKey: Uint8Array,
): Signer {
  const type = pkcs11KeyType(keyAlgorithm);
  const mechanism = { mechanism: type.signing };
  return {
    keyAlgorithm,
    signatureAlgorithm: signatureAlgorithmOf(keyAlgorithm),
    publicKey,
    async sign(data) {
      const input = type.input(data);
      const signature = await pool.run("signing in the PKCS#11 token", (session) => {
        cryptoki.C_SignInit(session, mechanism, privateKey);
        // C_Sign ends the operation whether it succeeds or fails (v2.40 §5.12), so the session is clean after.
        return cryptoki.C_SignAsync(session, input, Buffer.alloc(type.signatureOctets));
      });
      return type.output(signature);
    },
  };
}
