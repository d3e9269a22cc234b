/**
 * Enrollment: how a device gets its identity without its private key ever leaving it. Device
 * authentication (IDevID, bootstrap token, current certificate), single-use nonces, and the
 * transport-neutral service that EST (src/http/routes/est.ts) and the native API call.
 */
export {
  bootstrapTokens,
  bootstrapTokenPrefix,
  defaultBootstrapTtlSeconds,
  maxBootstrapTtlSeconds,
  type BootstrapTokens,
  type CreatedBootstrapToken,
} from "./bootstrap-tokens.js";
export { enrollmentNonces, nonceLifetimeSeconds, type EnrollmentNonces, type Nonce } from "./nonces.js";
export {
  enrollment,
  type DeviceCredential,
  type EvidencedCredential,
  type Enrollment,
  type EnrollRequest,
  type Presented,
} from "./enrollment.js";
export {
  hardwareKeySignature,
  signedEvidenceData,
  type Evidence,
  type EvidenceInput,
  type EvidenceVerifier,
} from "./evidence.js";
export {
  actionFor,
  deviceReports,
  reportMessage,
  type DeviceAction,
  type DeviceReports,
  type DeviceStatus,
  type ReportPurpose,
  type SignedReport,
} from "./device-reports.js";
