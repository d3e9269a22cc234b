/**
 * The device agent: the device's side of enrollment. Its key stores (a 0600 file, or a PKCS#11
 * token standing for a secure element), EST and native enrollment clients, the state directory,
 * renewal by itself. It imports crypto, pki, domain and node built-ins only: never a server module.
 */
export type { DeviceKeyStore, DeviceKeyStoreKind, KeyRefJson } from "./device-key-store.js";
export { FileKeyStore } from "./file-key-store.js";
export { Pkcs11DeviceKeyStore } from "./pkcs11-device-key-store.js";
export { EstClient, type EstAuth, type EstClientOptions } from "./est-client.js";
export {
  NativeEnrollmentClient,
  evidenceMessage,
  type NativeEnrollment,
} from "./native-enrollment-client.js";
export type { BootstrapCredential } from "./bootstrap-credential.js";
export { enroll, type EnrollOptions } from "./enroll.js";
export { checkIn, erase, type CheckIn, type EraseOutcome } from "./erase.js";
export { renew, status } from "./renew.js";
export type { CertificateStatus, InstalledCertificate } from "./issued-certificate.js";
export { renewalTime, defaultRenewalFraction, type Validity } from "../domain/index.js";
export { backoffDelay, retryAfterMs } from "./retry.js";
export {
  renewalLoop,
  type CheckInAnswer,
  type RenewalLoopDeps,
  type RenewalLoopEvent,
} from "./renewal-loop.js";
export { runAgent, type RunControls } from "./run.js";
export { StateDirectory, type AgentState, type KeyStoreSettings } from "./state-directory.js";
export { main } from "./cli.js";
export {
  runFleet,
  formatFleetReport,
  type FleetDevice,
  type FleetFailure,
  type FleetOptions,
  type FleetPhase,
  type FleetReport,
  type PhaseReport,
} from "./fleet.js";
