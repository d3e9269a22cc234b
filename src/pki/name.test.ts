import "reflect-metadata";
import { Name } from "@peculiar/x509";
import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { readOnly } from "./der-reader.js";
import { decodeName, encodeName, formatName, type DistinguishedName } from "./name.js";

const hex = (b: Uint8Array | ArrayBuffer): string =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

const dn: DistinguishedName = [
  { type: "C", value: "DE" },
  { type: "ST", value: "Bayern" },
  { type: "L", value: "München" },
  { type: "O", value: "Acme, Inc." },
  { type: "OU", value: "Sensors" },
  { type: "DC", value: "example" },
  { type: "DC", value: "com" },
  { type: "CN", value: "device-001" },
  { type: "serialNumber", value: "SN-0001" },
];

describe("encodeName", () => {
  test("equals @peculiar/x509's Name with the RFC 5280 string types", () => {
    const kind = (t: string) =>
      t === "C" || t === "serialNumber" ? "printableString" : t === "DC" ? "ia5String" : "utf8String";
    const oids: Record<string, string> = {
      C: "2.5.4.6",
      ST: "2.5.4.8",
      L: "2.5.4.7",
      O: "2.5.4.10",
      OU: "2.5.4.11",
      DC: "0.9.2342.19200300.100.1.25",
      CN: "2.5.4.3",
      serialNumber: "2.5.4.5",
    };
    const theirs = new Name(dn.map((a) => ({ [oids[a.type]!]: [{ [kind(a.type)]: a.value }] })) as never);
    expect(hex(encodeName(dn))).toBe(hex(theirs.toArrayBuffer()));
  });

  test("encodes the empty name as an empty SEQUENCE", () => {
    expect(hex(encodeName([]))).toBe("3000");
  });

  test("round-trips through decodeName", () => {
    const encoded = encodeName(dn);
    expect(decodeName(readOnly(encoded, 0x30, "x"), "x")).toEqual(dn);
  });

  test.each([
    [{ type: "C", value: "DEU" }],
    [{ type: "C", value: "de" }],
    [{ type: "serialNumber", value: "SN_1" }],
    [{ type: "CN", value: "" }],
    [{ type: "CN", value: "x".repeat(65) }],
    [{ type: "CN", value: "a\u0000b" }],
    [{ type: "CN", value: "\ud800" }],
  ] as const)("refuses %o with profile-violation", (attribute) => {
    let error: unknown;
    try {
      encodeName([attribute]);
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "profile-violation")).toBe(true);
  });

  test.each([
    ["a right-to-left override", "device\u202Egpj.exe"],
    ["a left-to-right isolate", "a\u2066b"],
    ["a zero-width space", "dev\u200Bice"],
    ["a byte order mark", "\uFEFFdevice"],
    ["a line separator", "a\u2028b"],
    ["a private-use character", "a\uE000b"],
    ["DEL", "a\u007Fb"],
  ])("refuses a CN with %s, naming the code point", (_what, value) => {
    expect(() => encodeName([{ type: "CN", value }])).toThrow(/U\+[0-9A-F]{4}.*read as another/);
    expect(() => encodeName([{ type: "O", value }])).toThrow(/subject O contains U\+/);
  });

  test.each(["CN", "serialNumber", "C"] as const)("refuses a subject with two %s attributes", (type) => {
    const value = type === "C" ? "DE" : "x";
    expect(() =>
      encodeName([
        { type, value },
        { type, value },
      ]),
    ).toThrow(`subject has more than one ${type}`);
  });

  test("keeps the joiners that scripts and emoji need", () => {
    expect(() => encodeName([{ type: "O", value: "می\u200Cخواهم" }])).not.toThrow();
    expect(() => encodeName([{ type: "CN", value: "👩\u200D🔧 lab" }])).not.toThrow();
  });

  test.each([
    [[{ type: "DC", value: "example" }], /single-label domain/],
    [
      [
        { type: "DC", value: "example.com" },
        { type: "DC", value: "net" },
      ],
      /one DNS label/,
    ],
    [
      [
        { type: "DC", value: "-lead" },
        { type: "DC", value: "com" },
      ],
      /one DNS label/,
    ],
    [
      [
        { type: "DC", value: "a_b" },
        { type: "DC", value: "com" },
      ],
      /one DNS label/,
    ],
  ] as const)("refuses domainComponents %o", (name, message) => {
    expect(() => encodeName(name)).toThrow(message);
  });

  test("counts characters, not UTF-16 units, against the upper bound", () => {
    expect(() => encodeName([{ type: "CN", value: "😀".repeat(64) }])).not.toThrow();
  });
});

describe("formatName", () => {
  test("joins in encoding order with RFC 4514 escaping", () => {
    expect(
      formatName([
        { type: "CN", value: "x" },
        { type: "O", value: "y" },
      ]),
    ).toBe("CN=x, O=y");
    expect(
      formatName([
        { type: "O", value: "Acme, Inc." },
        { type: "CN", value: " #1+2 " },
      ]),
    ).toBe("O=Acme\\, Inc., CN=\\ #1\\+2\\ ");
  });
});

describe("decodeName", () => {
  test("refuses a subject emailAddress with the reason (RFC 5280 §4.1.2.6)", () => {
    const email = new Name("CN=dev, E=ops@example.com").toArrayBuffer();
    expect(() => decodeName(readOnly(new Uint8Array(email), 0x30, "x"), "x")).toThrow(
      /emailAddress is not issued.*rfc822Name/,
    );
  });

  test("refuses multi-valued RDNs and unknown attribute types, naming the OID", () => {
    const multi = new Name("CN=a+O=b").toArrayBuffer();
    expect(() => decodeName(readOnly(new Uint8Array(multi), 0x30, "x"), "x")).toThrow(/multi-valued/);
    const street = new Name("2.5.4.9=Main Street 1").toArrayBuffer();
    let error: unknown;
    try {
      decodeName(readOnly(new Uint8Array(street), 0x30, "x"), "x");
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "profile-violation")).toBe(true);
    expect(String(error)).toMatch(/2\.5\.4\.9/);
  });
});
