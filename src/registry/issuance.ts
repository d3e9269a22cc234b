/**
 * Authorize, then sign (DESIGN §6): who may have a certificate now, for which device and under
 * which policy version, is decided here; `ca` gets an authorized order and only signs. A
 * certificate for a device is its lifecycle transition too (`issue` before the device confirmed,
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
import { authorize, describeScopes, isScoped, requestScopeOf, type Caller } from "../policy/index.js";
import { deviceRepository } from "../store/index.js";
import type { RegistryDeps } from "./registration.js";
import { applyIn, builtInPolicyVersion } from "./transitions.js";

/** What a caller asks for: the order without what the registry decides. */
export type CertificateRequest = Omit<
  IssueRequest,
  "device" | "policyVersion" | "recordWith" | "actor" | "requestScope"
> & {
  readonly deviceId?: string | undefined;
};

export async function issueCertificate(
  deps: RegistryDeps,
  request: CertificateRequest,
  caller: Caller,
): Promise<IssuedCertificate> {
  authorize(caller, "cert.issue");
  const { deviceId, ...order } = request;
  const asked = { ...order, actor: caller.actor, requestScope: requestScopeOf(caller.scopes) };
  if (deviceId === undefined) {
    if (isScoped(caller.scopes)) {
      throw new KeyfleetError(
        "forbidden",
        `this token is scoped (${describeScopes(caller.scopes)}): it issues only for a device in its scope; send deviceId`,
      );
    }
    return deps.issue({ ...asked, policyVersion: builtInPolicyVersion });
  }
  const row = await deviceRepository(deps.database.db).byId(deviceId);
  if (!row) throw new KeyfleetError("not-found", `no device ${quoted(deviceId)}`);
  authorize(caller, "cert.issue", { attributes: row, what: `device ${quoted(deviceId)}` });
  const kind = issuanceCommandFor(row.state);
  if (!kind) {
    throw new KeyfleetError(
      "invalid-transition",
      `device ${quoted(deviceId)} is ${row.state}; it gets no new certificate now`,
      { detail: { reason: "not-allowed-in-state", state: row.state } },
    );
  }
  return deps.issue({
    ...asked,
    device: { id: row.id, serialNumber: row.serial_number },
    policyVersion: builtInPolicyVersion,
    // Decided again under the device's lock in the certificate's transaction: if the device moved
    // on meanwhile (suspended, say), this certificate fails alone and nothing of it is recorded.
    recordWith: async (tx, { serial }) => {
      const command: Command =
        kind === "issue"
          ? { kind, certificate: serial as CertificateSerial }
          : { kind, successor: serial as CertificateSerial };
      await applyIn(deps, tx, row.id, command, caller, {}, "cert.issue");
    },
  });
}
