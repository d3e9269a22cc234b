/**
 * A stand-in EST server for the agent's tests (node:https), answering as RFC 7030 says: certs-only
 * PKCS#7 in base64 (with line breaks, as `base64` writes them, or on one line), 401 without
 * credentials, 202 + Retry-After when told to hold a request, text errors. It signs with openssl as
 * the chain's issuing CA. The real server is src/enrollment; the end-to-end tests run against it.
 */
import { randomBytes, verify, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { evidenceMessage } from "../../src/agent/native-enrollment-client.js";
import { parseCsr } from "../../src/pki/index.js";
import type { EstChain } from "./est-chain.js";

export interface EstServerOptions {
  readonly chain: EstChain;
  /** device id → bootstrap token, each usable once. */
  readonly tokens?: Map<string, string>;
  /** Answer 202 with this Retry-After (seconds) to the first N enrollment requests. */
  readonly holdFirst?: { readonly count: number; readonly retryAfter: string };
  /** Certificate lifetime in days. */
  readonly days?: number;
  /** Base64 on one line (RFC 8951 §3 allows both) instead of 76-character lines. */
  readonly oneLine?: boolean;
}

export interface EstTestServer {
  readonly url: URL;
  readonly requests: {
    path: string;
    contentType?: string;
    auth?: string;
    clientCertificate: boolean;
    challengePassword?: string;
  }[];
  close(): Promise<void>;
}

function base64(der: Uint8Array, oneLine: boolean): string {
  const b64 = Buffer.from(der).toString("base64");
  return oneLine ? b64 : (b64.match(/.{1,76}/g) ?? []).join("\r\n") + "\r\n";
}

export async function estServer(options: EstServerOptions): Promise<EstTestServer> {
  const requests: EstTestServer["requests"] = [];
  let held = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await new Promise<string>((resolve) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("latin1")));
      req.on("end", () => resolve(text));
    });
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const clientCertificate = peer !== null && Object.keys(peer).length > 0;
    const path = req.url ?? "";
    const entry: EstTestServer["requests"][number] = { path, clientCertificate };
    if (req.headers["content-type"]) entry.contentType = req.headers["content-type"];
    if (req.headers.authorization) entry.auth = req.headers.authorization;
    requests.push(entry);
    const pkcs7 = (der: Uint8Array): void => {
      const text = base64(der, options.oneLine ?? false);
      res.writeHead(200, {
        "content-type": "application/pkcs7-mime; smime-type=certs-only",
        "content-transfer-encoding": "base64",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    };
    const text = (status: number, message: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(message);
    };
    if (path === "/.well-known/est/cacerts") return pkcs7(options.chain.chainPkcs7);
    if (path.startsWith("/api/v1/enroll")) return native(req, path, body, res);
    const operation = /^\/\.well-known\/est\/(simpleenroll|simplereenroll)$/.exec(path)?.[1];
    if (!operation || req.method !== "POST") return text(404, "no such EST operation");
    if (req.headers["content-type"] !== "application/pkcs10") return text(415, "expected application/pkcs10");
    let authorized = false;
    let consume = (): unknown => undefined;
    if (operation === "simplereenroll")
      authorized = clientCertificate && (req.socket as TLSSocket).authorized;
    else if (clientCertificate && (req.socket as TLSSocket).authorized) authorized = true;
    else {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      const [user, password] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":") : [];
      if (user && password && options.tokens?.get(user) === password) {
        authorized = true;
        consume = () => options.tokens?.delete(user); // one-time: spent when a certificate is issued
      }
    }
    if (!authorized) return text(401, "authentication required", { "www-authenticate": 'Basic realm="est"' });
    if (options.holdFirst && held < options.holdFirst.count) {
      held++;
      return text(202, "pending approval", { "retry-after": options.holdFirst.retryAfter });
    }
    let csr: Uint8Array;
    try {
      csr = new Uint8Array(Buffer.from(body.replace(/\s/g, ""), "base64"));
      const parsed = parseCsr(csr);
      if (parsed.challengePassword !== undefined) entry.challengePassword = parsed.challengePassword;
    } catch (e) {
      return text(400, `bad CSR: ${(e as Error).message}`);
    }
    consume();
    pkcs7((await options.chain.issue(csr, options.days)).pkcs7);
  };
  // The native JSON API as the agent speaks it (src/agent/native-enrollment-client.ts).
  const nonces = new Set<string>();
  const json = (res: ServerResponse, status: number, value: unknown): void => {
    res.writeHead(status, { "content-type": status < 400 ? "application/json" : "application/problem+json" });
    res.end(JSON.stringify(value));
  };
  const native = async (
    req: IncomingMessage,
    path: string,
    body: string,
    res: ServerResponse,
  ): Promise<void> => {
    if (req.method === "GET" && path.startsWith("/api/v1/enroll/nonce?device=")) {
      const nonce = randomBytes(16).toString("base64url");
      nonces.add(nonce);
      return json(res, 200, { nonce });
    }
    const request = JSON.parse(body) as {
      deviceId: string;
      csr: string;
      nonce: string;
      evidence: { certificates: string[]; signature: string };
    };
    if (!nonces.delete(request.nonce)) return json(res, 401, { detail: "unknown or used nonce" });
    const csr = new Uint8Array(Buffer.from(request.csr, "base64"));
    if (parseCsr(csr).challengePassword !== request.nonce)
      return json(res, 400, { detail: "nonce not in CSR" });
    const current = new X509Certificate(Buffer.from(request.evidence.certificates[0]!, "base64"));
    const issuing = new X509Certificate(options.chain.issuingPem);
    const signed = evidenceMessage(request.nonce, csr);
    const hash = current.publicKey.asymmetricKeyType === "ed25519" ? null : "sha256";
    const proven =
      current.verify(issuing.publicKey) &&
      current.subject === `CN=${request.deviceId}` &&
      verify(hash, signed, current.publicKey, Buffer.from(request.evidence.signature, "base64"));
    if (!proven) return json(res, 401, { detail: "evidence does not verify" });
    const issued = await options.chain.issue(csr, options.days);
    return json(res, 200, {
      certificate: new X509Certificate(Buffer.from(issued.certificate)).toString(),
      chain: [issuing.toString()],
    });
  };
  const server: Server = createServer(
    {
      cert: options.chain.serverCertPem,
      key: options.chain.serverKeyPem,
      ca: options.chain.chainPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => void handle(req, res).catch((e: unknown) => (res.writeHead(500), res.end(String(e)))),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: new URL(`https://127.0.0.1:${port}`),
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
