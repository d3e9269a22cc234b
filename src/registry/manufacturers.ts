/**
 * Manufacturers and the CA certificates their devices' IDevIDs must validate to. They are trust
 * anchors for every tenant, so only an unscoped caller with `manufacturer.manage` (ca-admin,
 * admin) adds them; each addition is an audit leaf in its own transaction. Nothing is ever edited
 * or removed in place.
 */
import { createHash, randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { checkSubjectPublicKeyInfo, derOrPem, readCertificate, subjectText } from "../pki/index.js";
import { authorize, isScoped, type Caller } from "../policy/index.js";
import {
  manufacturerRepository,
  type Database,
  type ManufacturerCertificateRow,
  type ManufacturerRow,
} from "../store/index.js";
import { printableText } from "./device-attributes.js";

export interface Manufacturer {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly createdAt: Date;
  readonly certificates: readonly {
    readonly sha256: string;
    readonly subject: string;
    readonly notAfter: Date;
    readonly addedBy: string;
    readonly addedAt: Date;
  }[];
}

/** Manufacturers whose anchors a service keeps in memory at most; past this it starts over. */
const maxKeptManufacturers = 1000;

export function manufacturerService(deps: { readonly database: Database; readonly audit: AuditLog }) {
  const repository = manufacturerRepository(deps.database.db);
  const anchors = new Map<string, Uint8Array[]>();

  async function find(idOrName: string): Promise<ManufacturerRow> {
    const row = (await repository.byId(idOrName)) ?? (await repository.byName(idOrName));
    if (!row) throw new KeyfleetError("not-found", `no manufacturer ${quoted(idOrName)}`);
    return row;
  }

  async function view(row: ManufacturerRow): Promise<Manufacturer> {
    return manufacturerOf(row, await repository.certificates(row.id));
  }

  return {
    /** Registers a manufacturer with its first CA certificates (at least one). */
    async add(
      caller: Caller,
      input: {
        name: string;
        description?: string | undefined;
        certificates: readonly (Uint8Array | string)[];
      },
    ): Promise<Manufacturer> {
      mayManage(caller);
      checkText("name", input.name);
      if (input.description !== undefined) checkText("description", input.description);
      if (input.certificates.length === 0 || input.certificates.length > 16) {
        throw new KeyfleetError(
          "malformed-request",
          "a manufacturer is registered with 1–16 CA certificates",
        );
      }
      const cas = input.certificates.map(caCertificate);
      const id = randomUUID();
      await deps.database.transaction(async (tx) => {
        const repo = manufacturerRepository(tx);
        await repo.insert({ id, name: input.name, description: input.description ?? null });
        for (const ca of cas)
          await repo.addCertificate({ ...ca, manufacturer_id: id, added_by: caller.actor });
        await deps.audit.append(tx, [
          {
            type: "manufacturer.added",
            actor: caller.actor,
            subject: `manufacturer:${id}`,
            details: { name: input.name, certificates: cas.map((c) => c.fingerprint_sha256) },
          },
        ]);
      });
      return view((await repository.byId(id))!);
    },

    /** Adds a CA certificate (a new root or intermediate) to a manufacturer. */
    async addCertificate(
      caller: Caller,
      idOrName: string,
      certificate: Uint8Array | string,
    ): Promise<Manufacturer> {
      mayManage(caller);
      const row = await find(idOrName);
      const ca = caCertificate(certificate);
      await deps.database.transaction(async (tx) => {
        await manufacturerRepository(tx).addCertificate({
          ...ca,
          manufacturer_id: row.id,
          added_by: caller.actor,
        });
        await deps.audit.append(tx, [
          {
            type: "manufacturer.certificate-added",
            actor: caller.actor,
            subject: `manufacturer:${row.id}`,
            details: { name: row.name, certificate: ca.fingerprint_sha256, subjectName: ca.subject },
          },
        ]);
      });
      return view(row);
    },

    async get(caller: Caller, idOrName: string): Promise<Manufacturer> {
      authorize(caller, "manufacturer.read");
      return view(await find(idOrName));
    },

    /** By name, after the name `after`. */
    async list(
      caller: Caller,
      options: { after?: string | undefined; limit: number },
    ): Promise<Manufacturer[]> {
      authorize(caller, "manufacturer.read");
      return Promise.all((await repository.list(options)).map(view));
    },

    /**
     * A manufacturer's CA certificates (DER) by its name, for IDevID validation; undefined if none
     * is registered. Anchors are only ever added, never edited or removed, so those read once are
     * kept (`cached`): a caller that finds them short asks again with `fresh` (another process may
     * have added one) before it refuses.
     */
    async anchorsOf(name: string, read: "cached" | "fresh" = "fresh"): Promise<Uint8Array[] | undefined> {
      const kept = read === "cached" ? anchors.get(name) : undefined;
      if (kept) return kept;
      const row = await repository.byName(name);
      const found = row && (await repository.certificates(row.id)).map((c) => c.certificate);
      if (found) {
        if (anchors.size >= maxKeptManufacturers) anchors.clear();
        anchors.set(name, found);
      }
      return found;
    },
  };
}

export type ManufacturerService = ReturnType<typeof manufacturerService>;

/** Trust anchors serve every tenant: an unscoped caller that may manage them. */
function mayManage(caller: Caller): void {
  authorize(caller, "manufacturer.manage");
  if (isScoped(caller.scopes)) {
    throw new KeyfleetError(
      "forbidden",
      "a manufacturer's CA certificates are trusted in every tenant: a scoped token may not add them",
    );
  }
}

function checkText(field: string, value: string): void {
  if (!printableText.test(value)) {
    throw new KeyfleetError(
      "malformed-request",
      `a manufacturer's ${field} is 1–128 printable ASCII characters, without leading or trailing spaces`,
    );
  }
}

/** A CA certificate as a manufacturer's trust anchor: parses, is a CA, has a key worth trusting. */
function caCertificate(input: Uint8Array | string) {
  const der = derOrPem(input, "CERTIFICATE");
  const cert = readCertificate(der);
  if (!cert.basicConstraints?.ca) {
    throw new KeyfleetError(
      "malformed-request",
      `${subjectText(cert)} is not a CA certificate (basicConstraints cA is not TRUE): a manufacturer's IDevIDs are validated to its CA certificates`,
    );
  }
  if (cert.keyCertSign === false) {
    throw new KeyfleetError(
      "malformed-request",
      `${subjectText(cert)} may not sign certificates (keyUsage without keyCertSign)`,
    );
  }
  checkSubjectPublicKeyInfo(cert.subjectPublicKeyInfo, "the CA certificate's key");
  return {
    fingerprint_sha256: createHash("sha256").update(der).digest("hex"),
    certificate: der,
    subject: subjectText(cert),
    not_after: cert.notAfter,
  };
}

function manufacturerOf(
  row: ManufacturerRow,
  certificates: readonly ManufacturerCertificateRow[],
): Manufacturer {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    certificates: certificates.map((c) => ({
      sha256: c.fingerprint_sha256,
      subject: c.subject,
      notAfter: c.not_after,
      addedBy: c.added_by,
      addedAt: c.added_at,
    })),
  };
}
