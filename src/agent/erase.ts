/**
 * Being retired (issue 17 item 5, the device's side): the agent asks the server what it is to do
 * (`check-in`, also on its renewal loop), and when told to erase, crypto-erases its key store and
 * proves it did. The proof must be made with the key it destroys, so the order is: sign the
 * server's nonce ‖ "erased" with the operational key, record the signed report and the intent in
 * the state directory (erased.json), destroy every key of the agent (PKCS#11: C_DestroyObject on
 * the private and public objects; file store: overwrite, fsync, unlink), then send the report. A
 * crash anywhere resumes from erased.json: keys not yet destroyed are destroyed, a report not yet
 * taken is sent again. From then on the agent neither enrolls nor renews.
 */
import { X509Certificate } from "node:crypto";
import { isKeyfleetError, KeyfleetError } from "../domain/index.js";
import { keyRefFromJson, type DeviceKeyStore } from "./device-key-store.js";
import {
  NativeEnrollmentClient,
  reportMessage,
  type ServerDeviceStatus,
} from "./native-enrollment-client.js";
import { openDeviceKeyStore } from "./open-key-store.js";
import { StateDirectory, type AgentState, type EraseRecord } from "./state-directory.js";

export interface EraseOutcome {
  readonly erasedAt: string;
  /** Whether the server took the signed report (false: none could be signed, or it is to be sent again). */
  readonly reported: boolean;
  /** Why the report is not (yet) taken. */
  readonly pending?: string;
}

/** The server's answer, or once the agent has erased, its own record (state "erased"). */
export interface CheckIn extends ServerDeviceStatus {
  /** Set when the device erased (now, or before). */
  readonly erase?: EraseOutcome;
}

interface Context {
  readonly state: StateDirectory;
  readonly agent: AgentState;
  readonly client: NativeEnrollmentClient;
  readonly leaf: Uint8Array;
}

async function context(stateDir: string): Promise<Context> {
  const state = new StateDirectory(stateDir);
  const agent = await state.readState();
  const trust = await state.readTrust();
  const client = new NativeEnrollmentClient({
    server: new URL(agent.server),
    ...(trust === undefined ? {} : { ca: trust }),
  });
  const [leaf] = await state.readCertificates();
  return { state, agent, client, leaf: leaf! };
}

/** Asks the server what the device is to do, and erases when told to. */
export async function checkIn(stateDir: string): Promise<CheckIn> {
  const c = await context(stateDir);
  const earlier = await c.state.readErased();
  if (earlier) {
    // Answered from its own record: the agent has nothing left to sign a status check with.
    const erase = await finish(c, earlier);
    return { state: "erased", action: "erase", erased: erase.reported, erase };
  }
  const store = await openDeviceKeyStore(c.agent.keyStore, c.state);
  try {
    const signer = await store.signer(keyRefFromJson(c.agent.key));
    const nonce = await c.client.nonce(c.agent.deviceId);
    const signature = await signer.sign(reportMessage(nonce, "status"));
    const answer = await c.client.status({
      deviceId: c.agent.deviceId,
      nonce,
      certificate: c.leaf,
      signature,
    });
    if (answer.action !== "erase") return answer;
    return { ...answer, erase: await eraseWith(c, store) };
  } finally {
    await store.close();
  }
}

/** Erases now (an operator on the device), reporting it to the server when it is reachable and takes it. */
export async function erase(stateDir: string): Promise<EraseOutcome> {
  const c = await context(stateDir);
  const earlier = await c.state.readErased();
  if (earlier) return finish(c, earlier);
  const store = await openDeviceKeyStore(c.agent.keyStore, c.state);
  try {
    return await eraseWith(c, store);
  } finally {
    await store.close();
  }
}

async function eraseWith(c: Context, store: DeviceKeyStore): Promise<EraseOutcome> {
  let report: EraseRecord["report"];
  try {
    const nonce = await c.client.nonce(c.agent.deviceId);
    const signature = await (
      await store.signer(keyRefFromJson(c.agent.key))
    ).sign(reportMessage(nonce, "erased"));
    report = {
      nonce,
      signature: Buffer.from(signature).toString("base64"),
      serial: new X509Certificate(c.leaf).serialNumber,
    };
  } catch (e) {
    if (!isKeyfleetError(e, "unavailable")) throw e;
    report = undefined; // erased all the same; the server finalizes without the device's report
  }
  const record: EraseRecord = { startedAt: new Date().toISOString(), report, destroyed: false };
  await c.state.writeErased(record);
  return finish(c, record, store);
}

/** Destroys what is left of the keys, then sends the report if the server has not taken it. */
async function finish(c: Context, record: EraseRecord, open?: DeviceKeyStore): Promise<EraseOutcome> {
  let current = record;
  if (!current.destroyed) {
    const store = open ?? (await openDeviceKeyStore(c.agent.keyStore, c.state));
    try {
      for (const key of [c.agent.key, c.agent.pendingKey]) {
        if (key) await store.destroy(keyRefFromJson(key));
      }
    } finally {
      if (!open) await store.close();
    }
    current = { ...current, destroyed: true };
    await c.state.writeErased(current);
  }
  const outcome = { erasedAt: current.startedAt };
  if (current.reportedAt !== undefined) return { ...outcome, reported: true };
  if (current.report === undefined) {
    return { ...outcome, reported: false, pending: "the server was unreachable: no report was signed" };
  }
  try {
    await c.client.reportErased({
      deviceId: c.agent.deviceId,
      nonce: current.report.nonce,
      certificate: c.leaf,
      signature: new Uint8Array(Buffer.from(current.report.signature, "base64")),
    });
  } catch (e) {
    if (!(e instanceof KeyfleetError)) throw e;
    return { ...outcome, reported: false, pending: `${e.message} (${e.code})` };
  }
  const reportedAt = new Date().toISOString();
  await c.state.writeErased({ ...current, reportedAt });
  return { ...outcome, reported: true };
}
