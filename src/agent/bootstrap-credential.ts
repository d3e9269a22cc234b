/**
 * How a device that has no good certificate proves who it is (RFC 7030 §3.3): a one-time bootstrap
 * token (HTTP Basic, username = device id), or its IDevID, as TLS client certificate when its key
 * is a file (node:tls must hold the key, see est-client.ts), or, when its key is in the agent's
 * token, by a signature made there over the server's nonce and the CSR (the native API). Used by a
 * first enrollment, and by a device coming back after its certificate expired (renew.ts).
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { KeyfleetError, quoted } from "../domain/index.js";
import { checkSubjectPublicKeyInfo, derOrPem } from "../pki/index.js";
import type { DeviceKeyStore } from "./device-key-store.js";
import type { EstAuth, EstClient } from "./est-client.js";
import { NativeEnrollmentClient } from "./native-enrollment-client.js";
import { Pkcs11DeviceKeyStore } from "./pkcs11-device-key-store.js";

export type BootstrapCredential =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "idevid"; readonly certificateFile: string; readonly keyFile: string }
  /** The IDevID's key in the agent's PKCS#11 token (RFC 7512 URI): it signs native-API evidence. */
  | { readonly kind: "idevid-pkcs11"; readonly certificateFile: string; readonly keyUri: string };

export interface SenderOptions {
  readonly server: URL;
  readonly deviceId: string;
  readonly credential: BootstrapCredential;
  /** Trust anchors for the server's TLS certificate, PEM. */
  readonly caBundlePem?: string | undefined;
  readonly label?: string | undefined;
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
export type Send = (csr: (challengePassword?: string) => Promise<Uint8Array>) => Promise<Uint8Array[]>;

export async function sender(o: SenderOptions, est: EstClient, store: DeviceKeyStore): Promise<Send> {
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
