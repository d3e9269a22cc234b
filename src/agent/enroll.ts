/**
 * First enrollment (RFC 7030 §4.1, §4.2.1): fetch the CA certificates, make the device's key in its
 * store, send a CSR signed there, and keep what comes back. The device authenticates with a
 * one-time bootstrap token (HTTP Basic, username = device id), or with its IDevID: as TLS client
 * certificate when its key is a file (node:tls must hold the key, see est-client.ts), or, when its
 * key is in the agent's token, by a signature made there over the server's nonce and the CSR
 * (the native API). A key made for an enrollment that fails is destroyed: a device keeps no
 * orphan keys.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { KeyAlgorithmId } from "../crypto/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { checkSubjectPublicKeyInfo, derOrPem, writeCsr } from "../pki/index.js";
import { keyRefToJson, type DeviceKeyStore } from "./device-key-store.js";
import { EstClient, type EstAuth } from "./est-client.js";
import { confirmInUse } from "./confirm-in-use.js";
import { certificateStatus, checkIssuedFor, type InstalledCertificate } from "./issued-certificate.js";
import { openDeviceKeyStore } from "./open-key-store.js";
import { NativeEnrollmentClient } from "./native-enrollment-client.js";
import { Pkcs11DeviceKeyStore } from "./pkcs11-device-key-store.js";
import { checkRenewalFraction, defaultRenewalFraction } from "./renewal-time.js";
import { StateDirectory, type KeyStoreSettings } from "./state-directory.js";

export type BootstrapCredential =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "idevid"; readonly certificateFile: string; readonly keyFile: string }
  /** The IDevID's key in the agent's PKCS#11 token (RFC 7512 URI): it signs native-API evidence. */
  | { readonly kind: "idevid-pkcs11"; readonly certificateFile: string; readonly keyUri: string };

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

/** How the CSR reaches the server with the device's proof: EST with Basic or a TLS client certificate, or native-API evidence. */
type Send = (csr: (challengePassword?: string) => Promise<Uint8Array>) => Promise<Uint8Array[]>;

async function sender(o: EnrollOptions, est: EstClient, store: DeviceKeyStore): Promise<Send> {
  const c = o.credential;
  if (c.kind === "token") {
    const auth: EstAuth = { kind: "basic", username: o.deviceId, password: c.token };
    return async (csr) => est.simpleenroll(await csr(), auth);
  }
  const certificateText = await readText(c.certificateFile, "IDevID certificate");
  if (c.kind === "idevid") {
    const auth: EstAuth = {
      kind: "tls",
      certificatePem: certificateText,
      keyPem: await readText(c.keyFile, "IDevID key"),
    };
    return async (csr) => est.simpleenroll(await csr(), auth);
  }
  // A key in a token cannot authenticate TLS from node: it signs the server's nonce and the CSR.
  if (!(store instanceof Pkcs11DeviceKeyStore)) {
    throw new KeyfleetError(
      "invalid-configuration",
      "an IDevID key in a token (--idevid-key pkcs11:…) needs --key-store pkcs11, the token that holds it",
    );
  }
  if (o.label !== undefined) {
    throw new KeyfleetError(
      "invalid-configuration",
      "--label is an EST label; an IDevID key in a token enrolls through the native API, which takes none",
    );
  }
  const idevid = derOrPem(certificateText, "CERTIFICATE");
  const spki = new Uint8Array(new X509Certificate(idevid).publicKey.export({ type: "spki", format: "der" }));
  const algorithm = checkSubjectPublicKeyInfo(spki, "the IDevID's public key");
  const signer = await store.signer(store.existing(c.keyUri, algorithm, spki));
  const native = new NativeEnrollmentClient({
    server: o.server,
    ...(o.caBundlePem ? { ca: o.caBundlePem } : {}),
  });
  return async (csr) => {
    const nonce = await native.nonce(o.deviceId);
    return native.enroll({
      deviceId: o.deviceId,
      csr: await csr(nonce),
      nonce,
      certificates: [idevid],
      signer,
    });
  };
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
