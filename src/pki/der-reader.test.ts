import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { oid, tag, time, tlv } from "./der.js";
import {
  children,
  namedBit,
  readBitString,
  readBoolean,
  readExtension,
  readExtensions,
  readIntegerMagnitude,
  readOid,
  readOnly,
  readString,
  readTime,
  readTlv,
} from "./der-reader.js";

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ""), "hex"));
const one = (h: string) => {
  const b = bytes(h);
  return readTlv(b, 0, b.length, "test");
};

function expectMalformed(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isKeyfleetError(e, "malformed-request"), String(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  expect.fail("did not throw");
}

describe("structure", () => {
  test("reads nested elements and their bounds", () => {
    const t = readOnly(bytes("3006 0201 05 0401 aa"), tag.sequence, "test");
    const [i, o] = children(t, "test");
    expect(readIntegerMagnitude(i!, "test")).toEqual(bytes("05"));
    expect(o!.end).toBe(8);
  });

  test("refuses trailing bytes, truncation, indefinite and non-minimal lengths, high tags", () => {
    expectMalformed(() => readOnly(bytes("3000 00"), tag.sequence, "x"), /1 trailing bytes/);
    expectMalformed(() => readOnly(bytes("3005 0201"), tag.sequence, "x"), /truncated/);
    expectMalformed(() => readOnly(bytes("30"), tag.sequence, "x"), /truncated \(no length\)/);
    expectMalformed(() => readOnly(new Uint8Array(0), tag.sequence, "x"), /truncated \(no tag\)/);
    expectMalformed(() => readOnly(bytes("3080 0000"), tag.sequence, "x"), /indefinite/);
    expectMalformed(() => readOnly(bytes("308100"), tag.sequence, "x"), /not minimally encoded/);
    expectMalformed(() => readOnly(bytes("30820005 0000000000"), tag.sequence, "x"), /not minimally encoded/);
    expectMalformed(() => readOnly(bytes("1f2100"), 0x1f, "x"), /high tag/);
    expectMalformed(() => readOnly(bytes("3100"), tag.sequence, "x"), /expected tag 0x30, found 0x31/);
    expectMalformed(() => children(one("0400"), "x"), /constructed/);
  });

  test("refuses a child that overruns its parent", () => {
    expectMalformed(() => children(readOnly(bytes("3003 0405 aa"), tag.sequence, "x"), "x"), /truncated/);
  });
});

describe("primitive values", () => {
  test("BOOLEAN must be 0x00 or 0xFF", () => {
    expect(readBoolean(one("0101ff"), "x")).toBe(true);
    expect(readBoolean(one("010100"), "x")).toBe(false);
    expectMalformed(() => readBoolean(one("010101"), "x"), /not DER/);
  });

  test("INTEGER must be minimal and non-negative", () => {
    expect(readIntegerMagnitude(one("02020080"), "x")).toEqual(bytes("80"));
    expect(readIntegerMagnitude(one("020100"), "x")).toEqual(bytes("00"));
    expectMalformed(() => readIntegerMagnitude(one("02020001"), "x"), /minimally/);
    expectMalformed(() => readIntegerMagnitude(one("020180"), "x"), /negative/);
    expectMalformed(() => readIntegerMagnitude(one("0200"), "x"), /empty/);
  });

  test("BIT STRING padding must be DER", () => {
    expect(readBitString(one("03020186"), "x")).toEqual({ unusedBits: 1, bytes: bytes("86") });
    expectMalformed(() => readBitString(one("03020187"), "x"), /unused bits are not zero/);
    expectMalformed(() => readBitString(one("030101"), "x"), /padding/);
    expectMalformed(() => readBitString(one("03020886"), "x"), /padding/);
    expectMalformed(() => readBitString(one("0300"), "x"), /unused-bits octet/);
  });

  test("OBJECT IDENTIFIER round-trips with the writer and refuses non-minimal arcs", () => {
    for (const o of [
      "2.5.29.19",
      "1.2.840.113549.1.9.14",
      "0.9.2342.19200300.100.1.25",
      "2.999.3",
      "2.25.329800735698586629295641978511506172918",
    ]) {
      const encoded = oid(o);
      expect(readOid(readTlv(encoded, 0, encoded.length, "x"), "x")).toBe(o);
    }
    expectMalformed(() => readOid(one("0603 2a 80 01"), "x"), /minimally/);
    expectMalformed(() => readOid(one("0602 2a 86"), "x"), /truncated/);
    expectMalformed(() => readOid(one("0600"), "x"), /empty/);
  });

  test("OBJECT IDENTIFIER is bounded (limits.ts) before its arcs become numbers", () => {
    const raw = (content: number[]) => {
      const t = tlv(tag.oid, Uint8Array.from(content));
      return readTlv(t, 0, t.length, "x");
    };
    const arc = (octets: number) => [...new Array<number>(octets - 1).fill(0xff), 0x7f];
    expect(readOid(raw([0x2a, ...arc(19)]), "x")).toBe(`1.2.${2n ** 133n - 1n}`);
    expectMalformed(
      () => readOid(raw([0x2a, ...arc(20)]), "x"),
      /^x: OBJECT IDENTIFIER arc of 20 octets \(at most 19\)$/,
    );
    expectMalformed(() => readOid(raw([0x2a, ...arc(40_000)]), "x"), /^x: OBJECT IDENTIFIER of 40001 octets/);
    expect(readOid(raw(new Array<number>(100).fill(0x01)), "x")).toBe(`0.1${".1".repeat(99)}`);
    expectMalformed(
      () => readOid(raw(new Array<number>(101).fill(0x01)), "x"),
      /of 101 octets \(at most 100 are read\)/,
    );
  });

  test("strings decode by type and refuse bad encodings", () => {
    expect(readString(one("0c02c3a9"), "x")).toBe("é");
    expect(readString(one("1e0400e90041"), "x")).toBe("éA");
    expect(readString(one("1c08000000e900000041"), "x")).toBe("éA");
    expect(readString(one("1401e9"), "x")).toBe("é");
    expectMalformed(() => readString(one("0c01ff"), "x"), /invalid character encoding/);
    expectMalformed(() => readString(one("1301e9"), "x"), /non-ASCII/);
    expectMalformed(() => readString(one("0401aa"), "x"), /character string/);
  });

  test("times round-trip with the writer; fractions and offsets are refused", () => {
    for (const iso of [
      "1999-01-02T03:04:05Z",
      "2049-12-31T23:59:59Z",
      "2050-01-01T00:00:00Z",
      "2200-02-28T12:00:00Z",
    ]) {
      const t = time(new Date(iso));
      expect(readTime(readTlv(t, 0, t.length, "x"), "x").toISOString()).toBe(new Date(iso).toISOString());
    }
    const ascii = (tagByte: number, s: string) => {
      const b = Uint8Array.of(tagByte, s.length, ...Buffer.from(s));
      return readTlv(b, 0, b.length, "x");
    };
    expectMalformed(() => readTime(ascii(0x18, "20500101000000.5Z"), "x"), /not an RFC 5280 time/);
    expectMalformed(() => readTime(ascii(0x17, "500101000000+0100"), "x"), /not an RFC 5280 time/);
    expectMalformed(() => readTime(ascii(0x17, "500231000000Z"), "x"), /not a valid date/);
    // Longer than any RFC 5280 time: refused on its length, and never quoted back whole.
    const long = (() => {
      try {
        const t = tlv(0x18, Uint8Array.from(Buffer.from("2".repeat(50_000))));
        readTime(readTlv(t, 0, t.length, "x"), "x");
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(long).toBe("x: not an RFC 5280 time (too long)");
  });
});

describe("X.509 pieces", () => {
  test("named bits count from the first octet's most significant bit; absent bits are 0", () => {
    const keyCertSignAndCrlSign = readBitString(one("03020106"), "x"); // RFC 5280 §4.2.1.3 bits 5 and 6
    expect([0, 4, 5, 6, 7, 8, 100].map((n) => namedBit(keyCertSignAndCrlSign, n))).toEqual([
      false,
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(namedBit(readBitString(one("0303070080"), "x"), 8)).toBe(true);
  });

  test("an Extension reads with and without its critical flag", () => {
    expect(readExtension(one("300c 0603551d13 0101ff 0402 3000"), "x")).toEqual({
      oid: "2.5.29.19",
      critical: true,
      value: bytes("3000"),
    });
    expect(readExtension(one("3007 0603551d0e 0400"), "x")).toMatchObject({ critical: false });
    expect(readExtension(one("300a 0603551d0e 010100 0400"), "x")).toMatchObject({ critical: false });
    expectMalformed(() => readExtension(one("3005 0603551d0e"), "x"), /wrong shape/);
    expectMalformed(
      () => readExtension(one("3007 0603551d0e 3000"), "x"),
      /"2\.5\.29\.14": expected tag 0x04/,
    );
  });

  test("Extensions are keyed by extnID, and one appearing twice is refused (RFC 5280 §4.2)", () => {
    const ski = "3007 0603551d0e 0400";
    const byOid = readExtensions(one(`3012 ${ski} 3007 0603551d0f 0400`), "x");
    expect([...byOid.keys()]).toEqual(["2.5.29.14", "2.5.29.15"]);
    expectMalformed(() => readExtensions(one(`3012 ${ski} ${ski}`), "x"), /"2\.5\.29\.14" appears twice/);
  });
});
