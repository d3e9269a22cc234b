/**
 * Authorize, then sign (DESIGN §6): who may have a certificate now, for which device, under which
 * policy version and issuance rule, is decided here; `ca` gets an authorized order and only signs.
 * A certificate for a device is its lifecycle transition too (`issue` before the device confirmed,
 * `rotate` when it is active), written in the certificate's own transaction.
 */
import type { IssueRequest, IssuedCertificate } from "../ca/index.js";
import {
  KeyfleetError,
  issuanceCommandFor,
  quoted,
  type CertificateSerial,
  type Command,
} from "../domain/index.js";
import {
  authorize,
  describeScopes,
  isScoped,
  requestScopeOf,
  type Caller,
  type IssuanceTerms,
} from "../policy/index.js";
import { deviceRepository } from "../store/index.js";
import { policyDeviceOf } from "./device-record.js";
import type { RegistryDeps } from "./registration.js";
import { applyIn } from "./transitions.js";

/** What a caller asks for: the order without what the registry decides. */
export type CertificateRequest = Omit<
  IssueRequest,
  "device" | "policyVersion" | "recordWith" | "actor" | "requestScope" | "allowedKeyAlgorithms"
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
  const row = await deviceRepository(deps.database.db).byId(deviceId);
  if (!row) throw new KeyfleetError("not-found", `no device ${quoted(deviceId)}`);
  const what = `device ${quoted(deviceId)}`;
  authorize(caller, "cert.issue", { attributes: row, what });
  const kind = issuanceCommandFor(row.state);
  if (!kind) {
    throw new KeyfleetError("invalid-transition", `${what} is ${row.state}; it gets no new certificate now`, {
      detail: { reason: "not-allowed-in-state", state: row.state },
    });
  }
  policy.check(caller, "cert.issue", policyDeviceOf(row), kind, what);
  const terms = policy.issuance(caller, policyDeviceOf(row), kind, what);
  return deps.issue({
    ...asked,
    ...withinTerms(asked, terms, what),
    device: { id: row.id, serialNumber: row.serial_number },
    policyVersion: policy.version,
    // Decided again under the device's lock in the certificate's transaction: if the device moved
    // on meanwhile (suspended, say), this certificate fails alone and nothing of it is recorded.
    recordWith: async (tx, { serial }) => {
      const command: Command =
        kind === "issue"
          ? { kind, certificate: serial as CertificateSerial }
          : { kind, successor: serial as CertificateSerial };
      await applyIn(deps, tx, row.id, command, { caller, policy, permission: "cert.issue" }, {});
    },
  });
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
