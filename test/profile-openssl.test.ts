/**
 * Issue 13, done-when 2, through the real openssl: every profile (root, issuing CA, device bound,
 * unbound and SAN-only, server, the server's own identity, responder) with every algorithm it
 * allows, issued as production issues it (test/support/profile-matrix.ts), is accepted by
 * `openssl verify -x509_strict` for its purpose, shown by `openssl x509 -text` with exactly the
 * profile's extensions, and read by `openssl asn1parse` without error. The structural rules one by
 * one are in src/pki/profile-conformance.test.ts; this is the relying party's view.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { keyAlgorithms, signatureAlgorithms, type KeyAlgorithmId } from "../src/crypto/index.js";
import { openssl, opensslVerifyChain, workdir, type Workdir } from "./support/openssl.js";
import { certificateFields } from "./support/x509-fields.js";
import {
  caAlgorithms,
  endEntityCases,
  endEntityRequests,
  expectedSans,
  expectedSubject,
  issueHierarchy,
  serverHostnames,
  type CertificateKind,
  type EndEntityCase,
  type Hierarchy,
} from "./support/profile-matrix.js";

interface HierarchySpec {
  readonly label: string;
  readonly caAlgorithm: KeyAlgorithmId;
  readonly at?: string;
  readonly extra?: Readonly<Record<string, readonly [string, number]>>;
}

const oneSecond = "client/p256 for one second";
const hierarchies: readonly HierarchySpec[] = [
  ...caAlgorithms.map((a) => ({ label: `${a} hierarchy`, caAlgorithm: a })),
  // Made at the last second of 2049: every notAfter is GeneralizedTime (RFC 5280 §4.1.2.5).
  {
    label: "p256 hierarchy made at 2049-12-31T23:59:59Z",
    caAlgorithm: "p256",
    at: "2049-12-31T23:59:59Z",
    extra: { [oneSecond]: ["client/p256", 1] },
  },
];

/** What openssl 3.0 calls a CA key's signature algorithm. */
function signatureName(a: KeyAlgorithmId): string {
  const names: Record<string, string> = {
    "ecdsa-sha256": "ecdsa-with-SHA256",
    "ecdsa-sha384": "ecdsa-with-SHA384",
    ed25519: "ED25519",
    "rsa-pkcs1-sha256": "sha256WithRSAEncryption",
    "rsa-pkcs1-sha384": "sha384WithRSAEncryption",
    "rsa-pkcs1-sha512": "sha512WithRSAEncryption",
  };
  return names[signatureAlgorithms[keyAlgorithms[a].signature].id]!;
}

/** How `openssl x509 -text` shows a key of each algorithm. */
const publicKeyText: Record<KeyAlgorithmId, RegExp> = {
  p256: /Public Key Algorithm: id-ecPublicKey\s+Public-Key: \(256 bit\)[\s\S]*ASN1 OID: prime256v1\s+NIST CURVE: P-256/,
  p384: /Public Key Algorithm: id-ecPublicKey\s+Public-Key: \(384 bit\)[\s\S]*ASN1 OID: secp384r1\s+NIST CURVE: P-384/,
  ed25519: /Public Key Algorithm: ED25519\s+ED25519 Public-Key:/,
  rsa2048: /Public Key Algorithm: rsaEncryption\s+Public-Key: \(2048 bit\)[\s\S]*Exponent: 65537 \(0x10001\)/,
  rsa3072: /Public Key Algorithm: rsaEncryption\s+Public-Key: \(3072 bit\)[\s\S]*Exponent: 65537 \(0x10001\)/,
  rsa4096: /Public Key Algorithm: rsaEncryption\s+Public-Key: \(4096 bit\)[\s\S]*Exponent: 65537 \(0x10001\)/,
};

/** The extension headers `openssl x509 -text` prints for each kind, with their criticality. */
function expectedHeaders(kind: CertificateKind): string[] {
  const ca = ["X509v3 Basic Constraints: critical", "X509v3 Key Usage: critical"];
  const ids = ["X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier"];
  const urls = ["X509v3 CRL Distribution Points", "Authority Information Access"];
  const san = `X509v3 Subject Alternative Name${kind === "client-san-only" ? ": critical" : ""}`;
  switch (kind) {
    case "root":
      return [...ca, ...ids];
    case "issuing":
      return [...ca, ...ids, ...urls];
    case "ocsp-responder":
      return [...ca, "X509v3 Extended Key Usage", ...ids, ...urls, "OCSP No Check"];
    default:
      return [...ca, "X509v3 Extended Key Usage", san, ...ids, ...urls];
  }
}

/** The lines under each extension header that say what the profile says. */
function expectedValues(kind: CertificateKind): RegExp[] {
  const eku = {
    device: "TLS Web Client Authentication",
    tls: "TLS Web Server Authentication",
    ocsp: "OCSP Signing",
  };
  switch (kind) {
    case "root":
      return [
        /Basic Constraints: critical\n\s+CA:TRUE\n/,
        /Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/,
      ];
    case "issuing":
      return [
        /Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/,
        /Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/,
      ];
    default: {
      const purpose = kind === "ocsp-responder" ? eku.ocsp : kind.startsWith("tls") ? eku.tls : eku.device;
      return [
        /Basic Constraints: critical\n\s+CA:FALSE\n/,
        /Key Usage: critical\n\s+Digital Signature\n/,
        new RegExp(`Extended Key Usage: ?\\n\\s+${purpose}\\n`),
      ];
    }
  }
}

/** `-nameopt RFC2253,show_type`: last RDN first, each with openssl's name for its string type. */
function subjectLine(kind: CertificateKind, a: KeyAlgorithmId, device?: { serialNumber: string }): RegExp {
  const type = (t: string) =>
    t === "C" || t === "serialNumber" ? "PRINTABLESTRING" : t === "DC" ? "IA5STRING" : "UTF8STRING";
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = expectedSubject(kind, a, device)
    .reverse()
    .map(
      ([t, v]) =>
        `${escape(t)}=${type(t)}:${typeof v === "string" ? escape(v) : v.source.replace(/^\^|\$$/g, "")}`,
    );
  return new RegExp(`^subject=${parts.join(",")}\\n$`);
}

/** How `openssl x509 -text` shows each SAN the case carries (the hardwareModuleName as "othername"). */
const sanText = (san: string): string =>
  san.startsWith("otherName:")
    ? "othername: 1.3.6.1.5.5.7.8.4::"
    : san === "IP:0000:0000:0000:0000:0000:0000:0000:0001"
      ? "IP Address:0:0:0:0:0:0:0:1"
      : san.replace(/^IP:/, "IP Address:");

/** `openssl verify` arguments for a case: its purpose and the names a relying party would check. */
function verifyArguments(c: EndEntityCase): string[] {
  switch (c.kind) {
    case "tls-server":
      return ["-purpose", "sslserver", "-verify_hostname", "api.acme.test", "-verify_ip", "::1"];
    case "tls-server-own":
      return ["-purpose", "sslserver", "-verify_hostname", serverHostnames[0]!, "-verify_ip", "127.0.0.1"];
    case "ocsp-responder":
      return []; // a responder is no TLS party: the chain is what a relying party checks
    default:
      return ["-purpose", "sslclient"];
  }
}

const unixTime = (iso: string): string => String(Date.parse(iso) / 1000);

/** DER SEQUENCE of `items` (definite length, X.690 §8.1.3). */
function sequenceOf(items: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(items);
  const n = body.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([0x30, ...length]), body]);
}

let csrs: ReadonlyMap<string, string>;
let keys: Workdir;
beforeAll(async () => {
  keys = await workdir();
  csrs = await endEntityRequests(keys);
});
afterAll(() => keys?.dispose());

describe.each(hierarchies.map((spec) => [spec.label, spec] as const))("%s", (_label, spec) => {
  let h: Hierarchy;
  let dir: Workdir;
  const file = (id: string): string => dir.file(`${id.replace(/[^a-z0-9-]+/gi, "_")}.pem`);
  const at = spec.at ? ["-attime", unixTime(spec.at)] : [];
  const cases: EndEntityCase[] = [
    ...endEntityCases,
    ...Object.entries(spec.extra ?? {}).map(([id, [base]]) => ({
      ...endEntityCases.find((c) => c.id === base)!,
      id,
    })),
  ];
  const all: { id: string; kind: CertificateKind; keyAlgorithm: KeyAlgorithmId }[] = [
    { id: "root", kind: "root", keyAlgorithm: spec.caAlgorithm },
    { id: "issuing", kind: "issuing", keyAlgorithm: spec.caAlgorithm },
    ...cases,
  ];
  const deviceOf = (id: string) => (h.endEntities.get(id) ?? h.extra.get(id))?.device;

  beforeAll(async () => {
    h = await issueHierarchy(spec.caAlgorithm, csrs, {
      ...(spec.at ? { at: spec.at } : {}),
      extra: spec.extra ?? {},
    });
    dir = await workdir();
    await dir.write("root.pem", h.root.pem); // the names opensslVerifyChain reads
    await dir.write("issuing.pem", h.issuing.pem);
    for (const [id, e] of [...h.endEntities, ...h.extra])
      await dir.write(file(id).slice(dir.path.length + 1), e.pem);
  });
  afterAll(async () => {
    await dir?.dispose();
    await h?.dispose();
  });

  test("root CA: verify -x509_strict -check_ss_sig accepts it as its own trust anchor", async () => {
    const root = dir.file("root.pem");
    const { stdout, stderr } = await openssl([
      "verify",
      "-x509_strict",
      "-check_ss_sig",
      ...at,
      "-CAfile",
      root,
      root,
    ]);
    expect([stdout, stderr]).toEqual([`${root}: OK\n`, ""]);
  });

  test("issuing CA: verify -x509_strict chains it to the root", async () => {
    const issuing = dir.file("issuing.pem");
    const { stdout, stderr } = await openssl([
      "verify",
      "-x509_strict",
      ...at,
      "-CAfile",
      dir.file("root.pem"),
      issuing,
    ]);
    expect([stdout, stderr]).toEqual([`${issuing}: OK\n`, ""]);
  });

  // One `openssl verify` per set of arguments, with every certificate that takes them: openssl checks
  // each file on its own against the same store and prints a line for each ("<file>: OK").
  const verified = new Map<string, Promise<{ stdout: string; stderr: string }>>();
  const verify = (args: readonly string[]) => {
    const key = args.join(" ");
    let run = verified.get(key);
    if (!run) {
      const files = cases.filter((c) => verifyArguments(c).join(" ") === key).map((c) => file(c.id));
      run = openssl(
        ["verify", "-x509_strict", ...args, ...at, "-CAfile", dir.file("root.pem")].concat([
          "-untrusted",
          dir.file("issuing.pem"),
          ...files,
        ]),
      ).catch((e: { stdout: string; stderr: string }) => ({ stdout: e.stdout, stderr: e.stderr }));
      verified.set(key, run);
    }
    return run;
  };

  for (const c of cases) {
    const args = verifyArguments(c);
    test(`${c.id}: verify -x509_strict ${args.join(" ") || "(the chain)"} -CAfile root -untrusted issuing says OK`, async () => {
      const { stdout, stderr } = await verify(args);
      expect(stdout.split("\n")).toContain(`${file(c.id)}: OK`);
      expect(stderr.split("\n").filter((line) => line.includes(file(c.id)))).toEqual([]);
    });
  }

  for (const c of all) {
    const path = () =>
      c.kind === "root" ? dir.file("root.pem") : c.kind === "issuing" ? dir.file("issuing.pem") : file(c.id);

    // One `openssl x509` run shows both: the text, then the subject with its string types.
    let shown: Promise<{ stdout: string; stderr: string }> | undefined;
    const show = () =>
      (shown ??= openssl([
        "x509",
        "-in",
        path(),
        "-noout",
        "-text",
        "-subject",
        "-nameopt",
        "RFC2253,show_type,-esc_msb,utf8",
      ]));

    test(`${c.id}: x509 -text parses it and shows v3, the algorithms and exactly the profile's extensions`, async () => {
      const { stdout: text, stderr } = await show();
      expect(stderr).toBe("");
      expect(text).toContain("Version: 3 (0x2)");
      expect(text.match(/Signature Algorithm: (.*)/g)).toEqual(
        Array(2).fill(`Signature Algorithm: ${signatureName(spec.caAlgorithm)}`),
      );
      expect(text).toMatch(publicKeyText[c.keyAlgorithm]);
      const extensions = text.slice(
        text.indexOf("X509v3 extensions:"),
        text.indexOf("Signature Algorithm:", text.indexOf("X509v3 extensions:")),
      );
      const headers = [...extensions.matchAll(/^ {12}(\S.*?):?\s*$/gm)].map((m) => m[1]);
      expect(headers).toEqual(expectedHeaders(c.kind));
      for (const value of expectedValues(c.kind)) expect(extensions).toMatch(value);
      for (const san of expectedSans(c.kind, c.keyAlgorithm, deviceOf(c.id)))
        expect(extensions).toContain(sanText(san));
      if (c.kind !== "root") {
        const issuerId = c.kind === "issuing" ? h.root.id : h.issuing.id;
        expect(extensions).toContain(`URI:${h.publicUrl}/crl/${issuerId}.crl`);
        expect(extensions).toMatch(
          new RegExp(`OCSP - URI:${h.publicUrl}/ocsp\\s+CA Issuers - URI:${h.publicUrl}/ca/${issuerId}.cer`),
        );
      }
    });

    test(`${c.id}: x509 -subject -nameopt show_type shows the subject and its string types`, async () => {
      const { stdout } = await show();
      expect(stdout.match(/^subject=.*\n/m)?.[0]).toMatch(
        subjectLine(c.kind, c.keyAlgorithm, deviceOf(c.id)),
      );
    });

    test(`${c.id}: asn1parse reads it without error, every extension value an OCTET STRING`, async () => {
      const { stdout, stderr } = await openssl(["asn1parse", "-in", path(), "-i"]);
      expect(stderr).toBe("");
      expect(stdout).not.toMatch(/Error|BAD [A-Z]/);
      // Certificate > tbsCertificate > [3] > Extensions > Extension > extnValue: depth 5
      expect(stdout.match(/d=5 .* prim: +OCTET STRING +\[HEX DUMP\]/g)).toHaveLength(
        expectedHeaders(c.kind).length,
      );
    });
  }

  test("asn1parse reads every extension value of every certificate as DER", async () => {
    // The extnValues, certificate by certificate, each list wrapped in a SEQUENCE, all in one SEQUENCE.
    const ders = [
      h.root.der,
      h.issuing.der,
      ...[...h.endEntities.values(), ...h.extra.values()].map((e) => e.der),
    ];
    const values = ders.map((der) => certificateFields(der).extensions.map((x) => x.value));
    const wrapped = await dir.write("extension-values.der", sequenceOf(values.map(sequenceOf)));
    const { stdout, stderr } = await openssl(["asn1parse", "-inform", "DER", "-in", wrapped, "-i"]);
    expect(stderr).toBe("");
    expect(stdout).not.toMatch(/Error|BAD [A-Z]/);
    expect(stdout.match(/^ *\d+:d=1 /gm)).toHaveLength(ders.length);
    expect(stdout.match(/^ *\d+:d=2 /gm)).toHaveLength(values.flat().length);
  });

  if (spec.at) {
    test("openssl reads GeneralizedTime 20500101000000Z: the one-second certificate is valid at 23:59:59 and expired at 00:00:01", async () => {
      const f = file(oneSecond);
      expect((await openssl(["x509", "-in", f, "-noout", "-startdate", "-enddate"])).stdout).toBe(
        "notBefore=Dec 31 23:59:59 2049 GMT\nnotAfter=Jan  1 00:00:00 2050 GMT\n",
      );
      await expect(opensslVerifyChain(dir, f, ["-purpose", "sslclient", ...at])).resolves.toMatchObject({
        stdout: `${f}: OK\n`,
      });
      await expect(
        opensslVerifyChain(dir, f, ["-purpose", "sslclient", "-attime", unixTime("2050-01-01T00:00:01Z")]),
      ).rejects.toMatchObject({ stderr: expect.stringContaining("certificate has expired") });
    });
  }
});
