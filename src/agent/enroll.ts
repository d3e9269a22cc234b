/**
 * First enrollment (RFC 7030 §4.1, §4.2.1): fetch the CA certificates, make the device's key in its
 * store, send a CSR signed there, and keep what comes back. The device authenticates with a
 * one-time bootstrap token (HTTP Basic, username = device id) or with its IDevID as TLS client
 * certificate (an IDevID key file: node:tls must hold the key, see est-client.ts). A key made for
 * an enrollment that fails is destroyed: a device keeps no orphan keys.
 */
import { readFile } from "node:fs/promises";
import type { KeyAlgorithmId } from "../crypto/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { writeCsr } from "../pki/index.js";
import { keyRefToJson } from "./device-key-store.js";
import { EstClient, type EstAuth } from "./est-client.js";
import { confirmInUse } from "./confirm-in-use.js";
import { certificateStatus, checkIssuedFor, type InstalledCertificate } from "./issued-certificate.js";
import { openDeviceKeyStore } from "./open-key-store.js";
import { checkRenewalFraction, defaultRenewalFraction } from "./renewal-time.js";
import { StateDirectory, type KeyStoreSettings } from "./state-directory.js";

export type BootstrapCredential =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "idevid"; readonly certificateFile: string; readonly keyFile: string };

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

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new KeyfleetError("invalid-configuration", `cannot read the ${what} ${quoted(file, 200)}`, {
      cause,
    });
  }
}

async function estAuth(deviceId: string, credential: BootstrapCredential): Promise<EstAuth> {
  if (credential.kind === "token") return { kind: "basic", username: deviceId, password: credential.token };
  return {
    kind: "tls",
    certificatePem: await readText(credential.certificateFile, "IDevID certificate"),
    keyPem: await readText(credential.keyFile, "IDevID key"),
  };
}

export async function enroll(o: EnrollOptions): Promise<InstalledCertificate> {
  const renewalFraction = checkRenewalFraction(o.renewalFraction ?? defaultRenewalFraction);
  const algorithm = o.algorithm ?? "p256";
  const state = new StateDirectory(o.stateDir);
  if (await state.hasState()) {
    throw new KeyfleetError(
      "conflict",
      `${quoted(o.stateDir, 200)} already holds an enrolled agent: use \`keyfleet-agent renew\``,
    );
  }
  await state.create();
  const auth = await estAuth(o.deviceId, o.credential);
  const est = new EstClient({
    server: o.server,
    ...(o.caBundlePem ? { ca: o.caBundlePem } : {}),
    ...(o.label ? { label: o.label } : {}),
  });
  if (o.caBundlePem) await state.writeTrust(o.caBundlePem);
  await state.writeCaBundle(await est.cacerts());
  const store = await openDeviceKeyStore(o.keyStore, state);
  try {
    const ref = await store.generate(algorithm);
    let certificates: Uint8Array[];
    try {
      const csr = await writeCsr({ subject: [{ type: "CN", value: o.deviceId }] }, await store.signer(ref));
      certificates = await est.simpleenroll(csr, auth);
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
      });
    } catch (e) {
      await store.destroy(ref);
      throw e;
    }
    const confirmed = await confirmInUse(store, {
      server: o.server,
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
