/**
 * Authorize, then sign (DESIGN §6): who may have a certificate now, for which device, under which
 * policy version and issuance rule, is decided here; `ca` gets an authorized order and only signs.
 * A certificate for a device is its lifecycle transition too (`issue` before the device confirmed,
 * `rotate` when it is active), written in the certificate's own transaction.
 */
import type { InspectCsr, IssueRequest, IssuedCertificate, RecordWith } from "../ca/index.js";
import {
  KeyfleetError,
  issuanceCommandFor,
  quoted,
  type CertificateSerial,
  type Command,
  type EvidenceRef,
} from "../domain/index.js";
import {
  authorize,
  describeScopes,
  isScoped,
  requestScopeOf,
  type Caller,
  type IssuanceTerms,
} from "../policy/index.js";
import { deviceRepository, type DeviceRow } from "../store/index.js";
import { policyDeviceOf } from "./device-record.js";
import { checkReturn, type EnrollingWith } from "./expired-return.js";
import type { RegistryDeps } from "./registration.js";
import { transitionBatch } from "./transition-batch.js";
import type { Acting } from "./transitions.js";

/** What a caller asks for: the order without what the registry decides. */
export type CertificateRequest = Omit<
  IssueRequest,
  "device" | "policyVersion" | "recordWith" | "inspect" | "actor" | "requestScope" | "allowedKeyAlgorithms"
> & {
  readonly deviceId?: string | undefined;
};

export async function issueCertificate(
  deps: RegistryDeps,
  request: CertificateRequest,
  caller: Caller,
): Promise<IssuedCertificate> {
  authorize(caller, "cert.issue");
  const policy = await deps.policies.current();
  const { deviceId, ...order } = request;
  const asked = { ...order, actor: caller.actor, requestScope: requestScopeOf(caller.scopes) };
  if (deviceId === undefined) {
    if (isScoped(caller.scopes)) {
      throw new KeyfleetError(
        "forbidden",
        `this token is scoped (${describeScopes(caller.scopes)}): it issues only for a device in its scope; send deviceId`,
      );
    }
    return deps.issue({ ...asked, policyVersion: policy.version });
  }
  return issueForDevice(deps, deviceId, asked, { caller, policy, permission: "cert.issue" }, {});
}

/**
 * What enrollment adds to a device's certificate: the evidence the device authenticated with, a
 * check of the parsed CSR, and what is spent in the certificate's own transaction (a bootstrap
 * token, a nonce), so that a certificate that is not recorded spends nothing.
 */
export interface EnrollmentTerms {
  readonly evidence: readonly EvidenceRef[];
  readonly inspect?: InspectCsr | undefined;
  readonly spend?: RecordWith | undefined;
  /**
   * The certificate a re-enrollment authenticated with (RFC 7030 §4.2.2): the device must be active
   * (or rotating from this very certificate, whose pending successor the new one replaces).
   */
  readonly renewing?: string | undefined;
  /** The credential the device authenticated with (a return after expiry is bounded by policy: expired-return.ts). */
  readonly credential?: EnrollingWith | undefined;
}

/** A device's own request for its certificate (EST, the native enrollment API). */
export async function enrollCertificate(
  deps: RegistryDeps,
  request: Omit<CertificateRequest, "deviceId"> & { readonly deviceId: string },
  caller: Caller,
  terms: EnrollmentTerms,
): Promise<IssuedCertificate> {
  authorize(caller, "device.enroll");
  const policy = await deps.policies.current();
  const { deviceId, ...order } = request;
  const asked = { ...order, actor: caller.actor, requestScope: `device:${deviceId}` };
  return issueForDevice(deps, deviceId, asked, { caller, policy, permission: "device.enroll" }, terms);
}

type Asked = Omit<IssueRequest, "device" | "policyVersion" | "recordWith" | "allowedKeyAlgorithms">;

async function issueForDevice(
  deps: RegistryDeps,
  deviceId: string,
  asked: Asked,
  acting: Acting,
  terms: Partial<EnrollmentTerms>,
): Promise<IssuedCertificate> {
  const { caller, policy, permission } = acting;
  const row = await deviceRepository(deps.database.db).byId(deviceId);
  if (!row) throw new KeyfleetError("not-found", `no device ${quoted(deviceId)}`);
  const what = `device ${quoted(deviceId)}`;
  authorize(caller, permission, { attributes: row, deviceId: row.id, what });
  const commands = issuanceCommands(row, terms.renewing, what);
  const kind = commands[commands.length - 1]!;
  policy.check(caller, "cert.issue", policyDeviceOf(row), kind, what);
  const rule = policy.issuance(caller, policyDeviceOf(row), kind, what);
  await checkReturn(deps.database, row, rule, terms.credential, deps.clock.now());
  return deps.issue({
    ...asked,
    ...withinTerms(asked, rule, what),
    device: { id: row.id, serialNumber: row.serial_number },
    policyVersion: policy.version,
    inspect: terms.inspect,
    // Decided again under the device's lock in the certificate's transaction: if the device moved
    // on meanwhile (suspended, say), this certificate fails alone and nothing of it is recorded.
    // The transitions go to the batch's set-based writer (transition-batch.ts).
    recordWith: async (tx, certificate, batch) => {
      await terms.spend?.(tx, certificate, batch);
      const serial = certificate.serial as CertificateSerial;
      const brought = commands.map((command): Command =>
        command === "issue"
          ? { kind: command, certificate: serial }
          : command === "rotate"
            ? { kind: command, successor: serial }
            : { kind: command },
      );
      batch.writer(deps, () => transitionBatch(deps, tx)).add(row.id, brought, acting, terms.evidence ?? []);
    },
  });
}

/**
 * The transitions a new certificate brings: `issue` before the device confirmed, `rotate` when it
 * is active; a re-enrollment from the current certificate while a rotation is pending abandons the
 * pending successor first (the device lost it), then rotates again.
 */
function issuanceCommands(
  row: DeviceRow,
  renewing: string | undefined,
  what: string,
): readonly ("issue" | "rotate" | "abort")[] {
  const kind = issuanceCommandFor(row.state);
  if (renewing !== undefined) {
    if (row.state === "active") return ["rotate"];
    if (row.state === "rotating" && renewing !== row.successor_serial) return ["abort", "rotate"];
    throw new KeyfleetError(
      "invalid-transition",
      `${what} is ${row.state}: a re-enrollment renews the credential of an active device`,
      { detail: { reason: "not-allowed-in-state", state: row.state } },
    );
  }
  if (!kind) {
    throw new KeyfleetError("invalid-transition", `${what} is ${row.state}; it gets no new certificate now`, {
      detail: { reason: "not-allowed-in-state", state: row.state },
    });
  }
  return [kind];
}

/** "7 days" for whole days, "90061 seconds" otherwise. */
const duration = (seconds: number) =>
  seconds % 86_400 === 0 ? `${seconds / 86_400} days` : `${seconds} seconds`;

/** The order's profile, validity and key algorithms as the issuance rule has them; `policy-violation` otherwise. */
function withinTerms(
  asked: Pick<IssueRequest, "profile" | "validitySeconds">,
  terms: IssuanceTerms,
  what: string,
): Pick<IssueRequest, "profile" | "validitySeconds" | "allowedKeyAlgorithms"> {
  if (terms.rule === null) return {};
  const by = `policy version ${terms.policyVersion}, rule ${quoted(terms.rule)}`;
  const violation = (message: string) =>
    new KeyfleetError("policy-violation", `${by}: ${message}`, {
      detail: { policyVersion: terms.policyVersion, rule: terms.rule },
    });
  if (terms.attestation === "required") {
    throw violation(
      `${what} gets a certificate only with attestation evidence; enroll it with its evidence (an administrator's request carries none)`,
    );
  }
  if (asked.profile !== undefined && terms.profile !== undefined && asked.profile !== terms.profile) {
    throw violation(`${what} gets profile ${quoted(terms.profile)}, not ${quoted(asked.profile)}`);
  }
  const max = terms.maxValiditySeconds;
  if (max !== undefined && asked.validitySeconds !== undefined && asked.validitySeconds > max) {
    throw violation(
      `a certificate for ${what} is valid at most ${duration(max)}, not ${duration(asked.validitySeconds)}`,
    );
  }
  return {
    profile: asked.profile ?? terms.profile,
    validitySeconds: asked.validitySeconds ?? max,
    allowedKeyAlgorithms: terms.keyAlgorithms === undefined ? undefined : { ids: terms.keyAlgorithms, by },
  };
}
