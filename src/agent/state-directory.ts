/**
 * The agent's state directory (0700): what a device keeps between runs. Every file is written
 * whole (a temporary file, fsync, rename), so a power cut leaves the old state or the new one,
 * never half of either:
 *   agent.json      device id, server, key store settings, the current key's reference
 *   certificate.pem the current certificate, then the chain the server sent with it
 *   ca-bundle.pem   the CA certificates from EST /cacerts (RFC 7030 §4.1.3)
 *   trust.pem       the trust anchors for the server's TLS certificate (--ca-bundle, §3.6.1)
 *   keys/           the file key store's keys (PKCS#8, 0600); a token keeps its own
 *   crl.der         the newest CRL of the certificate's issuer, verified (revocation-cache.ts)
 *   ocsp.der        the newest OCSP response for the certificate, verified (to staple)
 *   erased.json     once the device is told to erase (erase.ts): the signed report, whether the
 *                   keys are destroyed and whether the server took the report; from then on the
 *                   agent neither enrolls nor renews
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { KeyAlgorithmId } from "../crypto/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { fromPem, toPem } from "../pki/index.js";
import type { BootstrapCredential } from "./bootstrap-credential.js";
import type { KeyRefJson } from "./device-key-store.js";

export type KeyStoreSettings =
  | { readonly kind: "file" }
  | {
      readonly kind: "pkcs11";
      readonly module: string;
      readonly token: string;
      readonly pinFile: string;
      readonly label: string;
    };

export interface AgentState {
  readonly version: 1;
  readonly deviceId: string;
  readonly server: string;
  readonly label?: string;
  readonly keyStore: KeyStoreSettings;
  readonly algorithm: KeyAlgorithmId;
  readonly key: KeyRefJson;
  /**
   * The key of a renewal under way, recorded before the request goes out: a power cut between
   * writing the new certificate and this file leaves enough to finish (renew.ts, settle()).
   */
  readonly pendingKey?: KeyRefJson;
  readonly renewalFraction: number;
  /** The IDevID it enrolled with (its files or token URI): how it re-authenticates after its certificate expired. */
  readonly idevid?: Exclude<BootstrapCredential, { kind: "token" }>;
}

/** The record of an erase (erase.ts), written before the keys are destroyed. */
export interface EraseRecord {
  readonly startedAt: string;
  /**
   * The report signed over nonce ‖ "erased" before the key went (base64), with the certificate's
   * serial; undefined when the server could not be reached for a nonce (erased all the same).
   */
  readonly report:
    { readonly nonce: string; readonly signature: string; readonly serial: string } | undefined;
  readonly destroyed: boolean;
  /** When the server took the report; absent until then (it is sent again on the next check-in). */
  readonly reportedAt?: string;
}

export class StateDirectory {
  constructor(readonly path: string) {}

  get keysPath(): string {
    return join(this.path, "keys");
  }

  async create(): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: 0o700 });
  }

  async hasState(): Promise<boolean> {
    return (await this.#read("agent.json")) !== undefined;
  }

  async readState(): Promise<AgentState> {
    const text = await this.#read("agent.json");
    if (text === undefined) {
      throw new KeyfleetError(
        "not-found",
        `no agent state in ${quoted(this.path, 200)}: run \`keyfleet-agent enroll\` first`,
      );
    }
    try {
      return JSON.parse(text) as AgentState;
    } catch (cause) {
      throw new KeyfleetError(
        "malformed-request",
        `${quoted(join(this.path, "agent.json"), 200)} is not JSON`,
        { cause },
      );
    }
  }

  writeState(state: AgentState): Promise<void> {
    return this.#write("agent.json", `${JSON.stringify(state, null, 2)}\n`);
  }

  async readErased(): Promise<EraseRecord | undefined> {
    const text = await this.#read("erased.json");
    return text === undefined ? undefined : (JSON.parse(text) as EraseRecord);
  }

  writeErased(record: EraseRecord): Promise<void> {
    return this.#write("erased.json", `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Refuses `doing` once the device has erased its key: a retired device does not come back. */
  async refuseIfErased(doing: string): Promise<void> {
    const erased = await this.readErased();
    if (erased === undefined) return;
    throw new KeyfleetError(
      "invalid-transition",
      `cannot ${doing}: this device erased its key at ${erased.startedAt} because it is being retired (${quoted(join(this.path, "erased.json"), 200)}); it does not enroll again`,
    );
  }

  /** The current certificate first, then its chain, DER. */
  async readCertificates(): Promise<Uint8Array[]> {
    const pem = await this.#read("certificate.pem");
    if (pem === undefined)
      throw new KeyfleetError("not-found", `no certificate in ${quoted(this.path, 200)}: enroll first`);
    return fromPem(pem, "CERTIFICATE");
  }

  writeCertificates(certificates: readonly Uint8Array[]): Promise<void> {
    return this.#write("certificate.pem", certificates.map((c) => toPem("CERTIFICATE", c)).join(""));
  }

  writeCaBundle(certificates: readonly Uint8Array[]): Promise<void> {
    return this.#write("ca-bundle.pem", certificates.map((c) => toPem("CERTIFICATE", c)).join(""));
  }

  readTrust(): Promise<string | undefined> {
    return this.#read("trust.pem");
  }

  writeTrust(pem: string): Promise<void> {
    return this.#write("trust.pem", pem);
  }

  /** A signed object kept as DER (crl.der, ocsp.der: revocation-cache.ts); undefined when absent. */
  async readDer(name: "crl.der" | "ocsp.der"): Promise<Uint8Array | undefined> {
    const text = await this.#read(name, "base64");
    return text === undefined ? undefined : new Uint8Array(Buffer.from(text, "base64"));
  }

  writeDer(name: "crl.der" | "ocsp.der", der: Uint8Array): Promise<void> {
    return this.#write(name, der);
  }

  /** The CA certificates from EST /cacerts, DER. */
  async readCaBundle(): Promise<Uint8Array[]> {
    const pem = await this.#read("ca-bundle.pem");
    return pem === undefined ? [] : fromPem(pem, "CERTIFICATE");
  }

  async #read(name: string, encoding: "utf8" | "base64" = "utf8"): Promise<string | undefined> {
    try {
      return await readFile(join(this.path, name), encoding);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new KeyfleetError("invalid-configuration", `cannot read ${quoted(join(this.path, name), 200)}`, {
        cause: e,
      });
    }
  }

  async #write(name: string, content: string | Uint8Array): Promise<void> {
    const temporary = join(this.path, `.${name}.${randomUUID()}`);
    const file = await open(temporary, "wx", 0o600);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, join(this.path, name));
    } catch (e) {
      await rm(temporary, { force: true });
      throw e;
    }
  }
}
