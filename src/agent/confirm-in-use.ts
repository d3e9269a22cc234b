/**
 * A new certificate is good once the device has used it (DESIGN §3): its first authenticated
 * request moves an enrolled device provisioned → active, and commits a renewal (the predecessor is
 * then revoked as superseded). The agent makes that request itself, an EST /csrattrs with the new
 * certificate as TLS client certificate, so the server learns at once that the device holds it.
 *
 * A key in a token cannot authenticate a TLS handshake from node (est-client.ts): the agent signs
 * a status check with it instead (a fresh nonce, signed by the new certificate's key), which the
 * server takes as the same proof. Confirmation is best effort: the certificate is installed either
 * way, and the device's next request confirms it.
 */
import { toPem } from "../pki/index.js";
import type { KeyRef } from "../crypto/index.js";
import type { DeviceKeyStore } from "./device-key-store.js";
import { EstClient } from "./est-client.js";
import { NativeEnrollmentClient, reportMessage } from "./native-enrollment-client.js";

export interface InUse {
  readonly server: URL;
  readonly label?: string | undefined;
  /** Trust anchors for the server's TLS certificate, PEM. */
  readonly trust?: string | undefined;
  /** The new certificate first, then its chain, DER. */
  readonly certificates: readonly Uint8Array[];
  readonly key: KeyRef;
  readonly deviceId: string;
}

/** Whether the server has now seen the new certificate in use (false: a token key, or the request failed). */
export async function confirmInUse(store: DeviceKeyStore, use: InUse): Promise<boolean> {
  const keyPem = await store.tlsKey(use.key);
  if (keyPem === undefined) return signedStatus(store, use);
  const est = new EstClient({
    server: use.server,
    ...(use.trust === undefined ? {} : { ca: use.trust }),
    ...(use.label === undefined ? {} : { label: use.label }),
  });
  try {
    await est.csrattrs({
      kind: "tls",
      certificatePem: use.certificates.map((c) => toPem("CERTIFICATE", c)).join(""),
      keyPem,
    });
    return true;
  } catch {
    return false; // the next request with the certificate confirms it
  }
}

/** A status check signed with the new certificate's key (a token's): the server confirms by it. */
async function signedStatus(store: DeviceKeyStore, use: InUse): Promise<boolean> {
  const client = new NativeEnrollmentClient({
    server: use.server,
    ...(use.trust === undefined ? {} : { ca: use.trust }),
  });
  try {
    const nonce = await client.nonce(use.deviceId);
    const signature = await (await store.signer(use.key)).sign(reportMessage(nonce, "status"));
    await client.status({ deviceId: use.deviceId, nonce, certificate: use.certificates[0]!, signature });
    return true;
  } catch {
    return false; // the next signed request confirms it
  }
}
