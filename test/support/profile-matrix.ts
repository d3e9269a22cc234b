/**
 * The profile × algorithm matrix of issue 13, made the way production makes certificates: a whole
 * app (as `keyfleet serve` builds it, CSRs parsed in its worker pool) on a PGlite copy, `init` with
 * the CA algorithm, devices registered in the registry, end entities issued through
 * `authority.issue` from CSRs that `openssl req` made. Shared by the structural conformance test
 * and the openssl one, which each build it once per CA algorithm.
 *
 * Subject keys are made once per test file (RSA generation is slow) and reused by every case and
 * hierarchy: a CSR does not depend on the CA that will sign it.
 */
import { keyAlgorithmsFor, type KeyAlgorithmId } from "../../src/crypto/index.js";
import { fixedClock } from "../../src/domain/index.js";
import type { ProfileName } from "../../src/pki/index.js";
import { testApp, type TestApp } from "./app.js";
import { openssl, type Workdir } from "./openssl.js";
import { systemCaller } from "../../src/policy/index.js";

/** Every algorithm a CA key may have (`keyfleet init --algorithm`), from the registry. */
export const caAlgorithms: readonly KeyAlgorithmId[] = keyAlgorithmsFor("ca");
export const deviceAlgorithms: readonly KeyAlgorithmId[] = keyAlgorithmsFor("device");
export const serviceAlgorithms: readonly KeyAlgorithmId[] = keyAlgorithmsFor("service");

/**
 * What each end-entity case is:
 * - client: bound to no device, so the CSR speaks for itself (a rich subject, URI and DNS SANs);
 * - device-bound: issued for a registered device, so the registry names it (its CSR's DNS name and
 *   hardwareModuleName, which carries the device's own serial, follow the registry's URN);
 * - client-san-only: an empty subject, named by its SAN alone (RFC 5280 §4.2.1.6: SAN critical);
 * - tls-server: DNS and IP names, domainComponents in the subject;
 * - tls-server-own: the HTTPS server's own identity (`serverTlsIdentity`, its P-256 key);
 * - ocsp-responder: a delegated responder (RFC 6960 §4.2.2.2).
 */
export type EndEntityKind =
  "client" | "device-bound" | "client-san-only" | "tls-server" | "tls-server-own" | "ocsp-responder";

export interface EndEntityCase {
  /** Unique within a hierarchy, e.g. "device-bound/rsa2048". */
  readonly id: string;
  readonly kind: EndEntityKind;
  readonly profile: ProfileName;
  readonly keyAlgorithm: KeyAlgorithmId;
}

const endEntity = (
  kind: EndEntityKind,
  profile: ProfileName,
  keyAlgorithm: KeyAlgorithmId,
): EndEntityCase => ({
  id: `${kind}/${keyAlgorithm}`,
  kind,
  profile,
  keyAlgorithm,
});

/** Every end-entity profile with every algorithm it allows (RSA-2048 for devices only). */
export const endEntityCases: readonly EndEntityCase[] = [
  ...serviceAlgorithms.map((a) => endEntity("client", "client", a)),
  ...deviceAlgorithms.map((a) => endEntity("device-bound", "device", a)),
  ...serviceAlgorithms.map((a) => endEntity("client-san-only", "client", a)),
  ...serviceAlgorithms.map((a) => endEntity("tls-server", "tls-server", a)),
  endEntity("tls-server-own", "tls-server", "p256"),
  ...serviceAlgorithms.map((a) => endEntity("ocsp-responder", "ocsp-responder", a)),
];

/** The host names the server identity is asked for, beside the localhost names it always carries. */
export const serverHostnames = ["pki.example.test"];

/** Device serial numbers in the registry, and what the CSRs of the other cases say. */
export const deviceSerial = (a: KeyAlgorithmId): string => `KF-${a.toUpperCase()}-0001`;
export const unboundSubject = (a: KeyAlgorithmId): string =>
  `/C=DE/ST=Bayern/L=München/O=Acme Güter/OU=Meters/CN=sensor-${a}/serialNumber=SN-${a.toUpperCase()}-0042`;
export const unboundSans = (a: KeyAlgorithmId): string =>
  `URI:urn:example:acme:meter:${a},DNS:sensor-${a}.devices.acme.test`;
/** RFC 4108 §5 HardwareModuleName: hwType, and hwSerialNum the device's serial (hex), as the openssl config says. */
export const hardwareModule = (a: KeyAlgorithmId) => ({
  hwType: "1.3.6.1.4.1.99999.1",
  hwSerialNum: Buffer.from(deviceSerial(a)).toString("hex"),
});
export const boundCsrSubject = "/O=Elsewhere/CN=what-the-device-claims";
export const boundCsrSan = (a: KeyAlgorithmId): string =>
  `DNS:${a}.devices.acme.test,otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hwmn-${a}`;
export const sanOnlySan = (a: KeyAlgorithmId): string => `DNS:meter-${a}.devices.acme.test`;
export const serverSubject = "/DC=test/DC=acme/CN=api.acme.test";
export const serverSans = "DNS:api.acme.test,IP:127.0.0.1,IP:::1";
export const responderSubject = (a: KeyAlgorithmId): string => `/O=Acme/CN=OCSP Responder ${a}`;

const genpkeyArgs: Record<KeyAlgorithmId, string[]> = {
  p256: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
  ed25519: ["-algorithm", "ED25519"],
  rsa2048: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
  rsa3072: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
  rsa4096: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
};

const requestConfig = `[req]
distinguished_name = dn
[dn]
${deviceAlgorithms
  .map(
    (a) => `[hwmn-${a}]
hwType = OID:${hardwareModule(a).hwType}
hwSerialNum = FORMAT:HEX,OCTETSTRING:${hardwareModule(a).hwSerialNum}
`,
  )
  .join("")}`;

/** Each case's CSR (PEM), from one `openssl genpkey` key per algorithm. */
export async function endEntityRequests(dir: Workdir): Promise<ReadonlyMap<string, string>> {
  const algorithms = [...new Set(endEntityCases.map((c) => c.keyAlgorithm))];
  const keyFiles = new Map(
    await Promise.all(
      algorithms.map(async (a) => {
        const keyFile = dir.file(`subject-${a}.key`);
        await openssl(["genpkey", ...genpkeyArgs[a], "-out", keyFile]);
        return [a, keyFile] as const;
      }),
    ),
  );
  const config = await dir.write("request.cnf", requestConfig);
  const csrs = new Map<string, string>();
  for (const c of endEntityCases) {
    if (c.kind === "tls-server-own") continue; // the server makes its own key; no CSR
    const [subject, sans] = requestNames(c);
    const out = dir.file(`${c.id.replace("/", "-")}.csr`);
    const san = sans ? ["-addext", `subjectAltName=${sans}`] : [];
    await openssl(
      ["req", "-new", "-utf8", "-config", config, "-key", keyFiles.get(c.keyAlgorithm)!].concat([
        "-subj",
        subject,
        ...san,
        "-out",
        out,
      ]),
    );
    csrs.set(c.id, await dir.read(out.slice(dir.path.length + 1)));
  }
  return csrs;
}

function requestNames(c: EndEntityCase): [subject: string, sans: string | undefined] {
  const a = c.keyAlgorithm;
  switch (c.kind) {
    case "client":
      return [unboundSubject(a), unboundSans(a)];
    case "device-bound":
      return [boundCsrSubject, boundCsrSan(a)];
    case "client-san-only":
      return ["/", sanOnlySan(a)];
    case "tls-server":
    case "tls-server-own":
      return [serverSubject, serverSans];
    case "ocsp-responder":
      return [responderSubject(a), undefined];
  }
}

export type CertificateKind = "root" | "issuing" | EndEntityKind;

/** The subject each case must carry, as [attribute, value] in order (CA CNs end in a random tag). */
export function expectedSubject(
  kind: CertificateKind,
  a: KeyAlgorithmId,
  device?: { readonly serialNumber: string },
): [string, string | RegExp][] {
  switch (kind) {
    case "root":
      return [
        ["O", "Keyfleet"],
        ["CN", /^Keyfleet Root CA [0-9a-f]{8}$/],
      ];
    case "issuing":
      return [
        ["O", "Keyfleet"],
        ["CN", /^Keyfleet Issuing CA [0-9a-f]{8}$/],
      ];
    case "client":
      return [
        ["C", "DE"],
        ["ST", "Bayern"],
        ["L", "München"],
        ["O", "Acme Güter"],
        ["OU", "Meters"],
        ["CN", `sensor-${a}`],
        ["serialNumber", `SN-${a.toUpperCase()}-0042`],
      ];
    case "device-bound": // IEEE 802.1AR: the registry's serial, whatever the CSR said
      return [
        ["CN", device!.serialNumber],
        ["serialNumber", device!.serialNumber],
      ];
    case "client-san-only":
      return [];
    case "tls-server":
      return [
        ["DC", "test"],
        ["DC", "acme"],
        ["CN", "api.acme.test"],
      ];
    case "tls-server-own":
      return [["CN", serverHostnames[0]!]];
    case "ocsp-responder":
      return [
        ["O", "Acme"],
        ["CN", `OCSP Responder ${a}`],
      ];
  }
}

/** The SANs each case must carry, in order: "URI:…", "DNS:…", "IP:…" (IPv6 in eight groups), "otherName:…". */
export function expectedSans(
  kind: CertificateKind,
  a: KeyAlgorithmId,
  device?: { readonly id: string },
): string[] {
  const v6loopback = "IP:0000:0000:0000:0000:0000:0000:0000:0001";
  switch (kind) {
    case "client":
      return [`URI:urn:example:acme:meter:${a}`, `DNS:sensor-${a}.devices.acme.test`];
    case "device-bound":
      return [
        `URI:urn:keyfleet:device:${device!.id}`,
        `DNS:${a}.devices.acme.test`,
        `otherName:1.3.6.1.5.5.7.8.4:${hardwareModule(a).hwType}:${hardwareModule(a).hwSerialNum}`,
      ];
    case "client-san-only":
      return [`DNS:meter-${a}.devices.acme.test`];
    case "tls-server":
      return ["DNS:api.acme.test", "IP:127.0.0.1", v6loopback];
    case "tls-server-own": // serverNames(): the localhost names first, then the host names asked for
      return ["DNS:localhost", "IP:127.0.0.1", v6loopback, ...serverHostnames.map((n) => `DNS:${n}`)];
    default:
      return [];
  }
}

export interface IssuedEntity {
  readonly case: EndEntityCase;
  readonly der: Uint8Array;
  readonly pem: string;
  /** The registry record it is bound to (device-bound only). */
  readonly device?: { readonly id: string; readonly serialNumber: string };
}

export interface Hierarchy {
  readonly caAlgorithm: KeyAlgorithmId;
  readonly app: TestApp;
  readonly publicUrl: string;
  readonly root: { readonly id: string; readonly der: Uint8Array; readonly pem: string };
  readonly issuing: { readonly id: string; readonly der: Uint8Array; readonly pem: string };
  readonly endEntities: ReadonlyMap<string, IssuedEntity>;
  /** Extra end entities a test asked for (by name), e.g. one a second long. */
  readonly extra: ReadonlyMap<string, IssuedEntity>;
  readonly dispose: () => Promise<void>;
}

export interface HierarchyOptions {
  /** The app's clock, as an ISO instant: a hierarchy made then (2049, to cross into GeneralizedTime). */
  readonly at?: string;
  /** Extra certificates: name → [a client case to issue again, with this validitySeconds]. */
  readonly extra?: Readonly<Record<string, readonly [caseId: string, validitySeconds: number]>>;
}

/** One hierarchy of `caAlgorithm` with every end-entity case issued under it. */
export async function issueHierarchy(
  caAlgorithm: KeyAlgorithmId,
  csrs: ReadonlyMap<string, string>,
  options: HierarchyOptions = {},
): Promise<Hierarchy> {
  const app = await testApp("pglite", options.at ? { clock: fixedClock(options.at) } : {});
  try {
    const { authority, devices } = app.app;
    const cas = await authority.init({ algorithm: caAlgorithm });
    const [issuingDer, rootDer] = (await authority.chain()).der;
    const [issuingPem, rootPem] = (await authority.chain()).pem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const ca = (kind: "root" | "intermediate") => cas.find((c) => c.kind === kind)!.id;
    const issue = async (c: EndEntityCase, validitySeconds?: number): Promise<IssuedEntity> => {
      if (c.kind === "tls-server-own") {
        const identity = await authority.serverTlsIdentity(serverHostnames);
        const issued = await authority.certificate(identity.serial);
        return { case: c, der: issued.der, pem: issued.pem };
      }
      const csr = csrs.get(c.id)!;
      if (c.kind === "device-bound") {
        const device = await devices.register(
          { serialNumber: deviceSerial(c.keyAlgorithm), model: "meter" },
          systemCaller,
        );
        const issued = await devices.issue({ csr, deviceId: device.id, validitySeconds }, systemCaller);
        return { case: c, der: issued.der, pem: issued.pem, device };
      }
      const issued = await authority.issue({ csr, profile: c.profile, validitySeconds });
      return { case: c, der: issued.der, pem: issued.pem };
    };
    const endEntities = new Map<string, IssuedEntity>();
    for (const c of endEntityCases) endEntities.set(c.id, await issue(c));
    const extra = new Map<string, IssuedEntity>();
    for (const [name, [caseId, validity]] of Object.entries(options.extra ?? {})) {
      const base = endEntityCases.find((c) => c.id === caseId && c.kind === "client")!;
      extra.set(name, { ...(await issue(base, validity)), case: { ...base, id: name } });
    }
    return {
      caAlgorithm,
      app,
      publicUrl: await authority.publicUrl(),
      root: { id: ca("root"), der: rootDer!, pem: rootPem! },
      issuing: { id: ca("intermediate"), der: issuingDer!, pem: issuingPem! },
      endEntities,
      extra,
      dispose: () => app.dispose(),
    };
  } catch (e) {
    await app.dispose();
    throw e;
  }
}
