/**
 * EST from the outside, with real clients: curl (RFC 7030 needs no EST mode, a POST of base64 with
 * Content-Type application/pkcs10), openssl for keys, CSRs and reading answers, and strongSwan's
 * `pki --est`. Files live in one temporary directory per test.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (e, stdout, stderr) =>
        resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export interface CurlAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface EstWorkspace {
  readonly dir: string;
  path(name: string): string;
  /** A P-256 key (PEM) in `name`.key. */
  key(name: string): Promise<string>;
  /** A CSR (base64 of DER, in lines of 64) made with `name`.key, in `name`.csr.b64. */
  csr(name: string, subject: string, options?: { challengePassword?: string }): Promise<string>;
  /** curl against the server; `--cacert` is the authority's chain. */
  curl(url: string, args: readonly string[]): Promise<CurlAnswer>;
  /** The certificates of a base64 certs-only PKCS#7 as PEM (openssl pkcs7 -print_certs). */
  certificatesOf(base64: string): Promise<string>;
  /** `openssl verify -x509_strict` against the chain; its output. */
  verify(pem: string): Promise<Run>;
  dispose(): Promise<void>;
}

export async function estWorkspace(chainPem: string): Promise<EstWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "keyfleet-est-"));
  const path = (name: string) => join(dir, name);
  await writeFile(path("chain.pem"), chainPem);
  const openssl = async (args: readonly string[], input?: string) => {
    const r = await run("openssl", args, input);
    if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    dir,
    path,
    async key(name) {
      await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path(`${name}.key`)]);
      return readFile(path(`${name}.key`), "utf8");
    },
    async csr(name, subject, options = {}) {
      // openssl req drops the [attrs] section when -subj is given, so the subject goes in the config too.
      const dn = subject
        .split("/")
        .filter((rdn) => rdn.length > 0)
        .map((rdn) => rdn.replace("=", " = "));
      const config = [
        "[req]",
        "distinguished_name = dn",
        "attributes = attrs",
        "prompt = no",
        "[dn]",
        ...dn,
        "[attrs]",
        ...(options.challengePassword ? [`challengePassword = ${options.challengePassword}`] : []),
      ].join("\n");
      await writeFile(path(`${name}.cnf`), `${config}\n`);
      await openssl([
        "req",
        "-new",
        "-key",
        path(`${name}.key`),
        "-config",
        path(`${name}.cnf`),
        "-outform",
        "DER",
        "-out",
        path(`${name}.csr.der`),
      ]);
      const b64 = (await readFile(path(`${name}.csr.der`))).toString("base64").replace(/(.{64})/g, "$1\n");
      await writeFile(path(`${name}.csr.b64`), b64);
      return b64;
    },
    async curl(url, args) {
      const r = await run("curl", [
        "-sS",
        "--cacert",
        path("chain.pem"),
        "-o",
        "-",
        "-w",
        "\n%{http_code} %{content_type}",
        ...args,
        url,
      ]);
      const at = r.stdout.lastIndexOf("\n");
      const [status, ...type] = r.stdout.slice(at + 1).split(" ");
      return { status: Number(status), contentType: type.join(" "), body: r.stdout.slice(0, at) };
    },
    async certificatesOf(base64) {
      await writeFile(path("answer.p7"), Buffer.from(base64, "base64"));
      return openssl(["pkcs7", "-inform", "DER", "-in", path("answer.p7"), "-print_certs"]);
    },
    async verify(pem) {
      await writeFile(path("to-verify.pem"), pem);
      return run("openssl", ["verify", "-x509_strict", "-CAfile", path("chain.pem"), path("to-verify.pem")]);
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
