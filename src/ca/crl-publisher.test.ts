/** When CRLs are due (crl-publisher.ts `due`): every rule, at its edge. */
import { expect, test } from "vitest";
import { crlValiditySeconds, deltaCrlValiditySeconds } from "./crl-producer.js";
import { due, fullRefreshSeconds, type PublishedState } from "./crl-publisher.js";

const t0 = new Date("2026-12-01T00:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const full = { number: 7, through_seq: 100, this_update: t0, next_update: at(crlValiditySeconds) };
const delta = { base_number: 7, through_seq: 100, this_update: t0, next_update: at(deltaCrlValiditySeconds) };
const state = (s: Partial<PublishedState> = {}): PublishedState => ({ full, delta, lastChange: 100, ...s });

test("nothing published yet: a full CRL and its delta", () => {
  expect(due(state({ full: undefined, delta: undefined }), t0)).toEqual(["full", "delta"]);
});

test("nothing changed and nothing half gone: nothing due", () => {
  expect(due(state(), at(60))).toEqual([]);
});

test("a revocation since the delta: a delta at once, a full CRL once the full one is old enough", () => {
  expect(due(state({ lastChange: 101 }), at(60))).toEqual(["delta"]);
  expect(due(state({ lastChange: 101 }), at(fullRefreshSeconds - 1))).toEqual(["delta"]);
  expect(due(state({ lastChange: 101 }), at(fullRefreshSeconds))).toEqual(["full", "delta"]);
});

test("half a validity gone: the delta at half its own, the full CRL at half its own", () => {
  expect(due(state(), at(deltaCrlValiditySeconds / 2 - 1))).toEqual([]);
  expect(due(state(), at(deltaCrlValiditySeconds / 2))).toEqual(["delta"]);
  expect(due(state(), at(crlValiditySeconds / 2))).toEqual(["full", "delta"]);
});

test("a delta of another base (a full CRL published since) or none: a delta", () => {
  expect(due(state({ delta: { ...delta, base_number: 6 } }), at(60))).toEqual(["delta"]);
  expect(due(state({ delta: undefined }), at(60))).toEqual(["delta"]);
});
