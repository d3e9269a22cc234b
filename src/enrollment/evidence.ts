/**
 * Evidence a device brings to the native enrollment API, and the one seam that judges it
 * (`EvidenceVerifier`). This verifier checks a signature over nonce ‖ SHA-256(CSR) by the
 * device's hardware identity key (its registered IDevID's) or by the key of a certificate it
 * presents (its current one, to renew): the nonce makes it fresh and single use, the digest binds
 * it to this very CSR. TPM quotes and firmware appraisal
 * plug in beside it, as other evidence types.
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { KeyfleetError, type EvidenceRef } from "../domain/index.js";

export interface SignatureEvidence {
  readonly type: "signature";
  /**
   * The certificate whose key signed, base64 DER, leaf first: the device's current Keyfleet
   * certificate (a renewal by a device whose key is in a token, which TLS cannot use) or its
   * IDevID. Absent: the key of the IDevID registered with the device.
   */
  readonly certificates?: readonly string[] | undefined;
  /** The signature, base64: ECDSA as DER Ecdsa-Sig-Value with SHA-256, Ed25519 raw, RSA PKCS#1 v1.5 SHA-256. */
  readonly signature: string;
}

export type Evidence = SignatureEvidence;

export interface EvidenceInput {
  readonly deviceId: string;
  /** The key the evidence must be signed with (its hardware identity key, or its certificate's), SPKI DER. */
  readonly key: Uint8Array;
  readonly nonce: string;
  readonly csr: Uint8Array;
  readonly evidence: Evidence;
}

export interface EvidenceVerifier {
  /** What the evidence proves, as the lifecycle records it; a throw refuses the enrollment. */
  verify(input: EvidenceInput): readonly EvidenceRef[];
}

/** What the device signs: the nonce's UTF-8 bytes, then the SHA-256 of the CSR's DER. */
export function signedEvidenceData(nonce: string, csr: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(nonce, "utf8"), createHash("sha256").update(csr).digest()]);
}

/** Whether `signature` over `data` verifies with the key `spki` (the algorithms of the signature evidence above). */
export function verifiesWith(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  return verify(key.asymmetricKeyType === "ed25519" ? null : "sha256", data, key, signature);
}

export const hardwareKeySignature: EvidenceVerifier = {
  verify(input) {
    if (input.evidence.type !== "signature") {
      throw new KeyfleetError(
        "malformed-request",
        `evidence of type ${String(input.evidence.type)} is not accepted`,
      );
    }
    const signature = Buffer.from(input.evidence.signature, "base64");
    if (!verifiesWith(input.key, signedEvidenceData(input.nonce, input.csr), signature)) {
      throw new KeyfleetError(
        "bad-signature",
        `the evidence signature does not verify with the key of device ${input.deviceId}'s ${input.evidence.certificates ? "certificate" : "registered IDevID"}: sign nonce ‖ SHA-256(CSR) with it`,
      );
    }
    const sha = createHash("sha256").update(input.key).digest("hex");
    return [{ kind: "proof-of-possession", ref: `signature-key-sha256:${sha}` }];
  },
};
