/**
 * How much pki reads of attacker-controlled input, stated once. Every decoder checks its bound
 * before it does work on what it bounds (a BigInt, a string, a loop), so the cost of a request is
 * linear in its size and the size is capped here. Measured (issue 13): one 45 KB OID arc cost
 * 0.23–0.38 s of worker CPU to turn into a BigInt and a decimal string, against 8–20 ms for a
 * whole normal request; PEM text full of BEGIN lines cost 0.26 s per 64 KiB on the event loop.
 *
 * Values a message quotes back are cut by `quoted` (src/domain): one helper for every echo.
 */
export const limits = {
  /**
   * A whole CSR, DER. The largest a profile can use: an RSA-4096 key and signature (≈ 1.1 KB),
   * a subject of 16 RDNs at the RFC 5280 upper bounds (< 9 KB), 100 DNS names of 253 octets (≈ 26 KB);
   * a device's CSR is 0.3–2 KB. Future attestation attributes (a TPM quote and an EK
   * certificate, ≈ 3 KB) still fit.
   */
  csrOctets: 32 * 1024,
  /**
   * PEM text in: the base64 of `csrOctets` with CRLF line ends and its BEGIN/END lines
   * (≈ 45,200 characters) fits, with room; equal to the admin API's `csr` maxLength (src/http).
   */
  pemCharacters: 64 * 1024,
  /**
   * OBJECT IDENTIFIER contents. X.660 bounds neither, but no OID X.509 uses comes near: the
   * longest in common use (Microsoft template OIDs, 2.25 UUID OIDs) are 20–30 octets.
   */
  oidOctets: 100,
  /**
   * One OID arc (subidentifier), in octets of 7 bits: 19 octets hold 133 bits, enough for the
   * 128-bit UUID arc of X.667's 2.25 OIDs, the largest arc with a standard use (a vendor without
   * an IANA enterprise number may name its hwType so). Checked before the arc becomes a BigInt.
   */
  oidArcOctets: 19,
  /**
   * CSR attributes (RFC 2986 §4.1). Keyfleet reads two (extensionRequest, challengePassword);
   * requesters send at most a few more (unstructuredName, a TCG attestation attribute).
   */
  csrAttributes: 16,
  /** Extensions in an extension request or a certificate; a certificate carries about ten. */
  extensions: 32,
  /** RDNs in a Name (one attribute each): a device subject has 1–6; 16 leaves room for OU and DC paths. */
  rdns: 16,
  /** subjectAltName entries: 100, as public CAs allow per certificate (Let's Encrypt's limit). */
  sans: 100,
  /** Octets of one SAN value (RFC 5280 sets no bound; these are the protocols' own). */
  san: {
    /** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text. */
    dns: 253,
    /** RFC 5321 §4.5.3.1.3: a path of 256 octets including its angle brackets. */
    email: 254,
    /** RFC 9110 §4.1 recommends supporting 8000; an identifier in a certificate needs far less. */
    uri: 2048,
    /** IEEE 802.1AR hwSerialNum: a serial number, not a document. */
    hwSerialNum: 64,
  },
  /** RFC 2985 §5.4.1 (PKCS#9 ub-challengePassword): 255 characters. */
  challengePasswordCharacters: 255,
  /**
   * A whole OCSP request, DER (POST body or decoded GET path). One CertID with a nonce is 70–120
   * octets (`openssl ocsp -reqout`); a signed request carrying its signer's certificate chain
   * (RFC 6960 §4.1.2) stays under 4 KB. RFC 5019 §5 expects GET requests under 255 octets.
   */
  ocspRequestOctets: 8 * 1024,
  /**
   * CertIDs in one OCSP request. RFC 5019 §2.1.1 clients send one; openssl sends one per -cert.
   * Each costs a cache lookup (and, on a miss, a database read), so a request is capped here.
   */
  ocspRequestCertIds: 16,
  /**
   * The OCSP nonce (RFC 9654 §2.1, Nonce ::= OCTET STRING (SIZE(1..128))): RFC 8954 capped it at
   * 32 octets, and RFC 9654, which obsoletes it, raised that to 128 for longer nonces; openssl
   * sends 16. Longer or empty is `malformedRequest`.
   */
  ocspNonceOctets: 128,
  /** RFC 5280 §4.1.2.5: YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ. */
  timeOctets: 15,
} as const;
