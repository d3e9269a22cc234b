/**
 * First enrollment (RFC 7030 §4.1, §4.2.1): fetch the CA certificates, make the device's key in its
 * store, send a CSR signed there, and keep what comes back. The device authenticates with a
 * one-time bootstrap token or its IDevID (bootstrap-credential.ts); an IDevID is remembered, so a
 * device that comes back after its certificate expired re-authenticates with it (renew.ts). A key
 * made for an enrollment that fails is destroyed: a device keeps no orphan keys.
 */
import type { KeyAlgorithmId } from "../crypto/index.js";
import { KeyfleetError, checkRenewalFraction, defaultRenewalFraction, quoted } from "../domain/index.js";
import { writeCsr } from "../pki/index.js";
import { sender, type BootstrapCredential } from "./bootstrap-credential.js";
import { keyRefToJson } from "./device-key-store.js";
import { EstClient } from "./est-client.js";
import { confirmInUse } from "./confirm-in-use.js";
import { certificateStatus, checkIssuedFor, type InstalledCertificate } from "./issued-certificate.js";
import { openDeviceKeyStore } from "./open-key-store.js";
import { StateDirectory, type KeyStoreSettings } from "./state-directory.js";

export interface EnrollOptions {
  readonly stateDir: string;
  readonly server: URL;
  readonly deviceId: string;
  readonly credential: BootstrapCredential;
  readonly keyStore: KeyStoreSettings;
  /** Trust anchors for the server's TLS certificate, PEM; kept in the state directory. */
  readonly caBundlePem?: string;
  readonly label?: string;
  readonly algorithm?: KeyAlgorithmId;
  readonly renewalFraction?: number;
}

export async function enroll(o: EnrollOptions): Promise<InstalledCertificate> {
  const renewalFraction = checkRenewalFraction(o.renewalFraction ?? defaultRenewalFraction);
  const algorithm = o.algorithm ?? "p256";
  const state = new StateDirectory(o.stateDir);
  await state.refuseIfErased("enroll");
  if (await state.hasState()) {
    throw new KeyfleetError(
      "conflict",
      `${quoted(o.stateDir, 200)} already holds an enrolled agent: use \`keyfleet-agent renew\``,
    );
  }
  await state.create();
  const est = new EstClient({
    server: o.server,
    ...(o.caBundlePem ? { ca: o.caBundlePem } : {}),
    ...(o.label ? { label: o.label } : {}),
  });
  if (o.caBundlePem) await state.writeTrust(o.caBundlePem);
  await state.writeCaBundle(await est.cacerts());
  const store = await openDeviceKeyStore(o.keyStore, state);
  try {
    const send = await sender(o, est, store);
    const ref = await store.generate(algorithm);
    let certificates: Uint8Array[];
    try {
      const signer = await store.signer(ref);
      certificates = await send(async (challengePassword) =>
        writeCsr(
          {
            subject: [{ type: "CN", value: o.deviceId }],
            ...(challengePassword === undefined ? {} : { challengePassword }),
          },
          signer,
        ),
      );
      checkIssuedFor(certificates, ref.publicKey);
      await state.writeCertificates(certificates);
      await state.writeState({
        version: 1,
        deviceId: o.deviceId,
        server: o.server.href,
        ...(o.label ? { label: o.label } : {}),
        keyStore: o.keyStore,
        algorithm,
        key: keyRefToJson(ref),
        renewalFraction,
        ...(o.credential.kind === "token" ? {} : { idevid: o.credential }),
      });
    } catch (e) {
      await store.destroy(ref);
      throw e;
    }
    const confirmed = await confirmInUse(store, {
      server: o.server,
      deviceId: o.deviceId,
      label: o.label,
      trust: o.caBundlePem,
      certificates,
      key: ref,
    });
    return { ...certificateStatus(certificates[0]!, renewalFraction), confirmed };
  } finally {
    await store.close();
  }
}
