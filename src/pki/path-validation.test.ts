/**
 * Path validation against the real openssl: every chain of the matrix, good and bad, is validated
 * by validatePath and by `openssl verify -x509_strict -partial_chain -attime`, and both must give
 * the same verdict, the same reason and the same depth.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { toPem } from "./pem.js";
import { validatePath, type PathFailureReason } from "./path-validation.js";
import {
  testCertificate,
  testKeyPair,
  unknownCriticalExtension,
  type TestCertificate,
  type TestCertificateOptions,
  type TestKeyType,
} from "./test-certificate.js";
import { extension } from "./extensions.js";
import { derNull } from "./der.js";

const at = new Date("2026-06-01T12:00:00Z");
const day = 86_400_000;
const before = new Date(at.getTime() - 365 * day);
const after = new Date(at.getTime() + 365 * day);

/** openssl's verify error numbers (x509_vfy.h), as the reasons of path-validation.ts. */
const opensslReasons: Readonly<Record<number, PathFailureReason>> = {
  2: "no-path-to-anchor", // unable to get issuer certificate
  7: "bad-signature",
  9: "not-yet-valid",
  10: "expired",
  18: "no-path-to-anchor", // self-signed certificate (not trusted)
  19: "no-path-to-anchor", // self-signed certificate in chain (not trusted)
  20: "no-path-to-anchor", // unable to get local issuer certificate
  22: "path-too-long",
  24: "not-a-ca",
  25: "path-length-exceeded",
  32: "not-a-ca", // keyUsage without keyCertSign (1.1); 3.0 -x509_strict says 79
  79: "not-a-ca", // invalid CA certificate (3.0)
  34: "unknown-critical-extension",
};

interface Case {
  readonly leaf: TestCertificate;
  readonly intermediates: readonly TestCertificate[];
  readonly anchors: readonly TestCertificate[];
  readonly expected: PathFailureReason | "valid";
  readonly maxLength?: number;
}

type Options = Omit<TestCertificateOptions, "key" | "notBefore" | "notAfter"> &
  Partial<Pick<TestCertificateOptions, "notBefore" | "notAfter">> & { keyType?: TestKeyType };

const cert = (o: Options): TestCertificate =>
  testCertificate({ notBefore: before, notAfter: after, key: testKeyPair(o.keyType ?? "p256"), ...o });

function chain(
  keyType: TestKeyType = "p256",
  intermediate: Partial<Options> = {},
  leaf: Partial<Options> = {},
) {
  const root = cert({ commonName: `Root ${keyType}`, ca: true, keyType });
  const issuing = cert({
    commonName: `Issuing ${keyType}`,
    ca: true,
    keyType,
    issuer: root,
    ...intermediate,
  });
  const device = cert({ commonName: `Device ${keyType}`, keyType, issuer: issuing, ...leaf });
  return { root, issuing, device };
}

function cases(): Record<string, Case> {
  const out: Record<string, Case> = {};
  const add = (
    name: string,
    expected: Case["expected"],
    c: { device: TestCertificate; issuing?: TestCertificate; root: TestCertificate },
    extra: Partial<Case> = {},
  ) => {
    out[name] = {
      leaf: c.device,
      intermediates: c.issuing ? [c.issuing] : [],
      anchors: [c.root],
      expected,
      ...extra,
    };
  };
  for (const keyType of ["p256", "p384", "rsa2048", "ed25519"] as const) {
    add(`a root, an intermediate and a leaf (${keyType})`, "valid", chain(keyType));
  }
  add(
    "an RSA-PSS chain",
    "valid",
    chain("rsa2048", { signature: "rsa-pss-sha256" }, { signature: "rsa-pss-sha256" }),
  );
  add(
    "a P-384 root over a P-256 intermediate",
    "valid",
    (() => {
      const root = cert({ commonName: "Root mixed", ca: true, keyType: "p384" });
      const issuing = cert({ commonName: "Issuing mixed", ca: true, issuer: root });
      return { root, issuing, device: cert({ commonName: "Device mixed", issuer: issuing }) };
    })(),
  );
  const partial = chain();
  out["the intermediate alone as the anchor (partial chain)"] = {
    leaf: partial.device,
    intermediates: [],
    anchors: [partial.issuing],
    expected: "valid",
  };
  add(
    "a non-critical unknown extension",
    "valid",
    chain(
      "p256",
      {},
      {
        extraExtensions: [extension("1.3.6.1.4.1.55555.2", false, derNull)],
      },
    ),
  );
  add("an expired leaf", "expired", chain("p256", {}, { notAfter: new Date(at.getTime() - day) }));
  add(
    "a leaf not yet valid",
    "not-yet-valid",
    chain("p256", {}, { notBefore: new Date(at.getTime() + day) }),
  );
  add("an expired intermediate", "expired", chain("p256", { notAfter: new Date(at.getTime() - day) }));
  add(
    "an intermediate not yet valid",
    "not-yet-valid",
    chain("p256", { notBefore: new Date(at.getTime() + day) }),
  );
  add("a leaf whose signature is wrong", "bad-signature", chain("p256", {}, { corruptSignature: true }));
  add("an intermediate whose signature is wrong", "bad-signature", chain("p256", { corruptSignature: true }));
  add(
    "an RSA leaf whose signature is wrong",
    "bad-signature",
    chain("rsa2048", {}, { corruptSignature: true }),
  );
  add(
    "an Ed25519 leaf whose signature is wrong",
    "bad-signature",
    chain("ed25519", {}, { corruptSignature: true }),
  );
  const other = chain();
  add("a leaf of another root", "no-path-to-anchor", { ...other, root: chain().root });
  const missing = chain();
  add("a missing intermediate", "no-path-to-anchor", { device: missing.device, root: missing.root });
  add("a self-signed leaf", "no-path-to-anchor", {
    device: cert({ commonName: "Alone" }),
    root: chain().root,
  });
  add(
    "an intermediate that is an end entity (cA FALSE)",
    "not-a-ca",
    chain("p256", { ca: false, keyUsage: ["digitalSignature"] }),
  );
  add("an intermediate without basicConstraints", "not-a-ca", chain("p256", { ca: "absent" }));
  add(
    "an intermediate without keyCertSign",
    "not-a-ca",
    chain("p256", { keyUsage: ["digitalSignature", "cRLSign"] }),
  );
  add(
    "an unknown critical extension on the leaf",
    "unknown-critical-extension",
    chain(
      "p256",
      {},
      {
        extraExtensions: [unknownCriticalExtension],
      },
    ),
  );
  add(
    "an unknown critical extension on the intermediate",
    "unknown-critical-extension",
    chain("p256", {
      extraExtensions: [unknownCriticalExtension],
    }),
  );
  {
    const root = cert({ commonName: "Root len 0", ca: { pathLength: 0 } });
    const issuing = cert({ commonName: "Issuing under len 0", ca: true, issuer: root });
    add("an intermediate under a root of pathLen 0", "path-length-exceeded", {
      root,
      issuing,
      device: cert({ commonName: "Device len 0", issuer: issuing }),
    });
  }
  {
    const root = cert({ commonName: "Root len 1", ca: { pathLength: 1 } });
    const issuing = cert({ commonName: "Issuing len 0", ca: { pathLength: 0 }, issuer: root });
    add("pathLen 1 then pathLen 0 over a leaf", "valid", {
      root,
      issuing,
      device: cert({ commonName: "Device len 1", issuer: issuing }),
    });
    const second = cert({ commonName: "Under len 0", ca: true, issuer: issuing });
    out["an intermediate under an intermediate of pathLen 0"] = {
      leaf: cert({ commonName: "Device too deep", issuer: second }),
      intermediates: [issuing, second],
      anchors: [root],
      expected: "path-length-exceeded",
    };
  }
  {
    const c = chain();
    const leaf = cert({
      commonName: "Device wrong AKI",
      issuer: c.issuing,
      authorityKeyId: new Uint8Array(20).fill(7),
    });
    add("a leaf whose authorityKeyIdentifier names another key", "no-path-to-anchor", { ...c, device: leaf });
  }
  {
    const root = cert({ commonName: "Root deep", ca: true });
    const a = cert({ commonName: "Deep A", ca: true, issuer: root });
    const b = cert({ commonName: "Deep B", ca: true, issuer: a });
    out["a chain of four certificates where three are allowed"] = {
      leaf: cert({ commonName: "Device deep", issuer: b }),
      intermediates: [a, b],
      anchors: [root],
      expected: "path-too-long",
      maxLength: 3,
    };
  }
  return out;
}

/** openssl's verdict: "valid", or the reason its error number means, with the depth it names. */
async function opensslVerdict(
  dir: Workdir,
  name: string,
  c: Case,
): Promise<{ result: string; depth?: number }> {
  const file = (what: string, certs: readonly TestCertificate[]) =>
    dir.write(`${name}-${what}.pem`, certs.map((x) => toPem("CERTIFICATE", x.der)).join(""));
  const anchors = await file("anchors", c.anchors);
  const leaf = await file("leaf", [c.leaf]);
  const untrusted = c.intermediates.length ? ["-untrusted", await file("untrusted", c.intermediates)] : [];
  // -verify_depth counts the intermediates (not the leaf, not the anchor).
  const depth = c.maxLength === undefined ? [] : ["-verify_depth", String(c.maxLength - 2)];
  const args = ["verify", "-x509_strict", "-partial_chain", "-attime", String(at.getTime() / 1000)];
  try {
    await openssl([...args, ...depth, "-CAfile", anchors, ...untrusted, leaf]);
    return { result: "valid" };
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ""}${(e as { stderr?: string }).stderr ?? ""}`;
    const m = /error (\d+) at (\d+) depth/.exec(out);
    if (!m) throw new Error(`openssl said: ${out}`);
    return { result: opensslReasons[Number(m[1])] ?? `openssl error ${m[1]}`, depth: Number(m[2]) };
  }
}

describe("path validation agrees with openssl verify", () => {
  let dir: Workdir;
  const matrix = cases();
  beforeAll(async () => {
    dir = await workdir();
  });
  afterAll(() => dir?.dispose());

  test.each(Object.keys(matrix).map((name) => [name]))("%s", async (name: string) => {
    const c = matrix[name]!;
    const ours = validatePath(
      c.leaf.der,
      c.anchors.map((a) => a.der),
      { at, intermediates: c.intermediates.map((x) => x.der), maxLength: c.maxLength },
    );
    const theirs = await opensslVerdict(dir, name.replace(/\W+/g, "-"), c);
    const mine = ours.valid ? { result: "valid" } : { result: ours.reason, depth: ours.depth };
    expect(mine.result).toBe(c.expected);
    expect(theirs.result).toBe(c.expected);
    if (!ours.valid && c.expected !== "no-path-to-anchor") expect(mine.depth).toBe(theirs.depth);
  });
});

describe("path validation", () => {
  test("names the anchor it reached and returns the path leaf first", () => {
    const { root, issuing, device } = chain();
    const other = chain().root;
    const result = validatePath(device.der, [other.der, root.der], { at, intermediates: [issuing.der] });
    expect(result).toMatchObject({ valid: true, anchorIndex: 1 });
    if (result.valid) expect(result.path.map((c) => c.der)).toEqual([device.der, issuing.der, root.der]);
  });

  test("a leaf that does not parse is malformed, not a throw", () => {
    const { root } = chain();
    expect(validatePath(Uint8Array.of(0x30, 0x03, 1, 2, 3), [root.der], { at })).toMatchObject({
      valid: false,
      reason: "malformed",
    });
  });

  test("tries another issuer of the same name when the first does not verify", () => {
    const c = chain("p256", {}, { noAuthorityKeyId: true });
    const impostor = cert({ commonName: "Issuing p256", ca: true, issuer: c.root });
    const result = validatePath(c.device.der, [c.root.der], {
      at,
      intermediates: [impostor.der, c.issuing.der],
    });
    expect(result.valid).toBe(true);
    // openssl -x509_strict refuses a leaf without an AKI before it looks for an issuer (error 85).
    const alone = validatePath(c.device.der, [c.root.der], { at, intermediates: [impostor.der] });
    expect(alone).toMatchObject({ valid: false, reason: "bad-signature", depth: 0 });
  });

  test("the message names the failing certificate", () => {
    const c = chain("p256", {}, { notAfter: new Date(at.getTime() - day) });
    const result = validatePath(c.device.der, [c.root.der], { at, intermediates: [c.issuing.der] });
    expect(result).toMatchObject({ valid: false, reason: "expired", depth: 0 });
    if (!result.valid)
      expect(result.message).toMatch(/^the certificate \(O=Keyfleet Path Test, CN=Device p256\) expired at /);
  });
});
