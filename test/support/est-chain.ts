/**
 * A small CA chain made by the real openssl, for EST tests: a root, an issuing CA, a TLS server
 * certificate for 127.0.0.1, and the certs-only PKCS#7 of the CA chain as an EST server would send
 * it (`openssl crl2pkcs7 -nocrl -certfile chain.pem -outform DER`). `issue()` signs a CSR as the
 * issuing CA, as a stand-in EST server does in the agent's tests (the real server is src/enrollment).
 */
import { readFile } from "node:fs/promises";
import { fromPem } from "../../src/pki/index.js";
import { openssl, type Workdir } from "./openssl.js";

export interface EstChain {
  readonly rootPem: string;
  readonly issuingPem: string;
  /** Root and issuing CA, PEM. */
  readonly chainPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** certs-only SignedData of the chain, DER. */
  readonly chainPkcs7: Uint8Array;
  /** Signs a DER CSR as the issuing CA; the certificate and the certs-only PKCS#7 (leaf first), DER. */
  issue(csr: Uint8Array, days?: number): Promise<{ certificate: Uint8Array; pkcs7: Uint8Array }>;
}

let serial = 0;

export async function estChain(dir: Workdir): Promise<EstChain> {
  const f = dir.file;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("root.key"),
    "-out",
    f("root.pem"),
    "-subj",
    "/CN=Test Root CA",
    "-days",
    "30",
    "-addext",
    "basicConstraints=critical,CA:true",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl([
    "req",
    "-new",
    ...ec,
    "-keyout",
    f("issuing.key"),
    "-out",
    f("issuing.csr"),
    "-subj",
    "/CN=Test Issuing CA",
  ]);
  await dir.write(
    "ca.ext",
    "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    f("issuing.csr"),
    "-CA",
    f("root.pem"),
    "-CAkey",
    f("root.key"),
    "-set_serial",
    "2",
    "-days",
    "30",
    "-extfile",
    f("ca.ext"),
    "-out",
    f("issuing.pem"),
  ]);
  await openssl([
    "req",
    "-new",
    ...ec,
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await dir.write("server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("issuing.pem"),
    "-CAkey",
    f("issuing.key"),
    "-set_serial",
    "3",
    "-days",
    "30",
    "-extfile",
    f("server.ext"),
    "-out",
    f("server.pem"),
  ]);
  const rootPem = await dir.read("root.pem");
  const issuingPem = await dir.read("issuing.pem");
  await dir.write("chain.pem", issuingPem + rootPem);
  await dir.write("server-chain.pem", (await dir.read("server.pem")) + issuingPem);
  await openssl([
    "crl2pkcs7",
    "-nocrl",
    "-certfile",
    f("chain.pem"),
    "-outform",
    "DER",
    "-out",
    f("chain.p7"),
  ]);
  await dir.write("leaf.ext", "subjectAltName=DNS:device.fleet.example\nextendedKeyUsage=clientAuth\n");
  return {
    rootPem,
    issuingPem,
    chainPem: issuingPem + rootPem,
    serverCertPem: await dir.read("server-chain.pem"),
    serverKeyPem: await dir.read("server.key"),
    chainPkcs7: new Uint8Array(await readFile(dir.file("chain.p7"))),
    async issue(csr, days = 30) {
      const n = ++serial;
      await dir.write(`leaf-${n}.csr`, csr);
      await openssl([
        "x509",
        "-req",
        "-in",
        f(`leaf-${n}.csr`),
        "-inform",
        "DER",
        "-CA",
        f("issuing.pem"),
        "-CAkey",
        f("issuing.key"),
        "-set_serial",
        String(1000 + n),
        "-days",
        String(days),
        "-copy_extensions",
        "copy",
        "-out",
        f(`leaf-${n}.pem`),
      ]);
      const leafPem = await dir.read(`leaf-${n}.pem`);
      await dir.write(`leaf-${n}-chain.pem`, leafPem + issuingPem);
      await openssl([
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        f(`leaf-${n}-chain.pem`),
        "-outform",
        "DER",
        "-out",
        f(`leaf-${n}.p7`),
      ]);
      return {
        certificate: fromPem(leafPem, "CERTIFICATE")[0]!,
        pkcs7: new Uint8Array(await readFile(dir.file(`leaf-${n}.p7`))),
      };
    },
  };
}
