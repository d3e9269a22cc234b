/**
 * Evidence a device brings to the native enrollment API, and the one seam that judges it
 * (`EvidenceVerifier`). This verifier checks a signature by the device's hardware identity
 * key (its IDevID's key, registered with the device) over nonce ‖ SHA-256(CSR): the nonce makes it
 * fresh and single use, the digest binds it to this very CSR. TPM quotes and firmware appraisal
 * plug in beside it, as other evidence types.
 */
import { createHash, createPublicKey, verify } from "node:crypto";
import { KeyfleetError, type EvidenceRef } from "../domain/index.js";

export interface SignatureEvidence {
  readonly type: "signature";
  /** The signature, base64: ECDSA as DER Ecdsa-Sig-Value with SHA-256, Ed25519 raw, RSA PKCS#1 v1.5 SHA-256. */
  readonly signature: string;
}

export type Evidence = SignatureEvidence;

export interface EvidenceInput {
  readonly deviceId: string;
  /** The device's hardware identity public key, SubjectPublicKeyInfo DER. */
  readonly hardwareKey: Uint8Array;
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

export const hardwareKeySignature: EvidenceVerifier = {
  verify(input) {
    if (input.evidence.type !== "signature") {
      throw new KeyfleetError(
        "malformed-request",
        `evidence of type ${String(input.evidence.type)} is not accepted`,
      );
    }
    const key = createPublicKey({ key: Buffer.from(input.hardwareKey), format: "der", type: "spki" });
    const signature = Buffer.from(input.evidence.signature, "base64");
    const data = signedEvidenceData(input.nonce, input.csr);
    const digest = key.asymmetricKeyType === "ed25519" ? null : "sha256";
    if (!verify(digest, data, key, signature)) {
      throw new KeyfleetError(
        "bad-signature",
        `the evidence signature does not verify with device ${input.deviceId}'s hardware identity key: sign nonce ‖ SHA-256(CSR) with the key of its IDevID`,
      );
    }
    const sha = createHash("sha256").update(input.hardwareKey).digest("hex");
    return [{ kind: "proof-of-possession", ref: `hardware-key-sha256:${sha}` }];
  },
};
