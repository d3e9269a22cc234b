/**
 * Re-enrollment with a new key (RFC 7030 §4.2.2): the same subject and SANs as the current
 * certificate, a key made now in the device's store, authenticated by the current credential. A
 * file key authenticates the TLS handshake (EST /simplereenroll); a key in a token cannot (node:tls
 * holds the keys it signs with), so it proves itself by a signature made in the token over a
 * server nonce and the CSR (native-enrollment-client.ts). The new certificate is installed, then
 * the old key destroyed; if anything fails before, the new key is destroyed and nothing changes.
 *
 * A device that comes back after its certificate expired cannot renew with it (the server refuses
 * it, and so does the agent before asking): it re-authenticates as at its first enrollment, with
 * the IDevID it enrolled with (remembered in agent.json) or a credential given now, such as a new
 * bootstrap token from the operator (bootstrap-credential.ts).
 */
import { X509Certificate } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import { sender, type BootstrapCredential } from "./bootstrap-credential.js";
import { certificateNames, readCertificate, toPem, writeCsr } from "../pki/index.js";
import type { CsrRequest } from "../pki/index.js";
import { keyRefFromJson, keyRefToJson, type DeviceKeyStore } from "./device-key-store.js";
import type { KeyRef } from "../crypto/index.js";
import { EstClient } from "./est-client.js";
import { confirmInUse } from "./confirm-in-use.js";
import {
  certificateStatus,
  checkIssuedFor,
  type CertificateStatus,
  type InstalledCertificate,
} from "./issued-certificate.js";
import { NativeEnrollmentClient } from "./native-enrollment-client.js";
import { openDeviceKeyStore } from "./open-key-store.js";
import { StateDirectory, type AgentState } from "./state-directory.js";

export interface RenewOptions {
  /** Re-authenticate with this instead of the current certificate (required once it expired, unless an IDevID is remembered). */
  readonly credential?: BootstrapCredential | undefined;
  readonly now?: () => Date;
}

export async function renew(stateDir: string, options: RenewOptions = {}): Promise<InstalledCertificate> {
  const state = new StateDirectory(stateDir);
  await state.refuseIfErased("renew");
  let agent = await state.readState();
  const store = await openDeviceKeyStore(agent.keyStore, state);
  try {
    agent = await settle(state, agent, store);
    const current = await state.readCertificates();
    const leaf = readCertificate(current[0]!);
    // RFC 7030 §4.2.2: the subject as it is in the certificate (octet for octet), and its SANs.
    const names = { subject: leaf.subject, sans: certificateNames(leaf).sans };
    const currentKey = keyRefFromJson(agent.key);
    const returning = returnCredential(agent, current[0]!, options);
    const next = await store.generate(agent.algorithm);
    const trust = await state.readTrust();
    let certificates: Uint8Array[];
    try {
      await state.writeState({ ...agent, pendingKey: keyRefToJson(next) });
      certificates = returning
        ? await comeBack(agent, trust, store, next, names.subject, returning)
        : await reenroll(agent, trust, store, currentKey, next, current, names);
      checkIssuedFor(certificates, next.publicKey);
      await state.writeCertificates(certificates);
    } catch (e) {
      await store.destroy(next);
      await state.writeState(agent);
      throw e;
    }
    await state.writeState({ ...agent, key: keyRefToJson(next) });
    await store.destroy(currentKey);
    const confirmed = await confirmInUse(store, {
      server: new URL(agent.server),
      deviceId: agent.deviceId,
      label: agent.label,
      trust,
      certificates,
      key: next,
    });
    return { ...certificateStatus(certificates[0]!, agent.renewalFraction), confirmed };
  } finally {
    await store.close();
  }
}

/**
 * Finishes a renewal a crash interrupted. The certificate file is the truth: if it already holds
 * the certificate for the pending key, that key becomes the current one (and the old key goes);
 * otherwise the request never completed and the pending key goes.
 */
async function settle(state: StateDirectory, agent: AgentState, store: DeviceKeyStore): Promise<AgentState> {
  if (!agent.pendingKey) return agent;
  const { pendingKey, ...rest } = agent;
  const pending = keyRefFromJson(pendingKey);
  const [leaf] = await state.readCertificates();
  const installed = new X509Certificate(leaf!).publicKey.export({ format: "der", type: "spki" });
  const finished = installed.equals(Buffer.from(pending.publicKey));
  const settled: AgentState = finished ? { ...rest, key: pendingKey } : rest;
  await state.writeState(settled);
  await store.destroy(finished ? keyRefFromJson(agent.key) : pending);
  return settled;
}

/** The credential to re-authenticate with instead of the current certificate; undefined: renew with it. */
function returnCredential(
  agent: AgentState,
  leaf: Uint8Array,
  options: RenewOptions,
): BootstrapCredential | undefined {
  if (options.credential) return options.credential;
  const notAfter = new Date(new X509Certificate(leaf).validTo);
  if ((options.now ?? (() => new Date()))().getTime() < notAfter.getTime()) return undefined;
  if (agent.idevid) return agent.idevid;
  throw new KeyfleetError(
    "unauthorized",
    `the device's certificate expired at ${notAfter.toISOString()}: an expired certificate renews nothing; run \`keyfleet-agent renew\` with --token (a new bootstrap token from the operator) or --idevid-cert and --idevid-key`,
  );
}

/** A first enrollment again, for the same device and subject, authenticated by `credential`. */
async function comeBack(
  agent: AgentState,
  trust: string | undefined,
  store: DeviceKeyStore,
  next: KeyRef,
  subject: CsrRequest["subject"],
  credential: BootstrapCredential,
): Promise<Uint8Array[]> {
  const server = new URL(agent.server);
  const est = new EstClient({
    server,
    ...(trust === undefined ? {} : { ca: trust }),
    ...(agent.label ? { label: agent.label } : {}),
  });
  const send = await sender(
    { server, deviceId: agent.deviceId, credential, caBundlePem: trust, label: agent.label },
    est,
    store,
  );
  const signer = await store.signer(next);
  return send((challengePassword) =>
    writeCsr({ subject, ...(challengePassword === undefined ? {} : { challengePassword }) }, signer),
  );
}

async function reenroll(
  agent: AgentState,
  trust: string | undefined,
  store: DeviceKeyStore,
  currentKey: KeyRef,
  next: KeyRef,
  current: readonly Uint8Array[],
  names: Omit<CsrRequest, "challengePassword">,
): Promise<Uint8Array[]> {
  const server = new URL(agent.server);
  const ca = trust === undefined ? {} : { ca: trust };
  const tlsKey = await store.tlsKey(currentKey);
  if (tlsKey !== undefined) {
    const csr = await writeCsr(names, await store.signer(next));
    const est = new EstClient({ server, ...ca, ...(agent.label ? { label: agent.label } : {}) });
    const chain = current.map((c) => toPem("CERTIFICATE", c)).join("");
    return est.simplereenroll(csr, { kind: "tls", certificatePem: chain, keyPem: tlsKey });
  }
  const native = new NativeEnrollmentClient({ server, ...ca });
  const nonce = await native.nonce(agent.deviceId);
  const csr = await writeCsr({ ...names, challengePassword: nonce }, await store.signer(next));
  return native.enroll({
    deviceId: agent.deviceId,
    csr,
    nonce,
    certificates: current,
    signer: await store.signer(currentKey),
  });
}

export async function status(
  stateDir: string,
): Promise<CertificateStatus & { readonly deviceId: string; readonly keyStore: string }> {
  const state = new StateDirectory(stateDir);
  const agent = await state.readState();
  const [leaf] = await state.readCertificates();
  return {
    deviceId: agent.deviceId,
    keyStore: agent.keyStore.kind,
    ...certificateStatus(leaf!, agent.renewalFraction),
  };
}
