/** When CRLs are due (crl-publisher.ts `due`): every rule, at its edge. */
import { expect, test } from "vitest";
import { crlValiditySeconds, deltaCrlValiditySeconds } from "./crl-producer.js";
import {
  deltaBaseMaxChanges,
  deltaBaseSeconds,
  due,
  fullRefreshSeconds,
  movesBase,
  type PublishedState,
} from "./crl-publisher.js";

const t0 = new Date("2026-12-01T00:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const full = { number: 7, this_update: t0, next_update: at(crlValiditySeconds) };
const delta = { base_number: 7, this_update: t0, next_update: at(deltaCrlValiditySeconds) };
const state = (s: Partial<PublishedState> = {}): PublishedState => ({
  full,
  delta,
  base: { number: 7 },
  changedSinceFull: false,
  changedSinceDelta: false,
  ...s,
});
const revoked = { changedSinceFull: true, changedSinceDelta: true };

test("nothing published yet: a full CRL and its delta", () => {
  expect(due(state({ full: undefined, delta: undefined }), t0)).toEqual(["full", "delta"]);
});

test("nothing changed and nothing half gone: nothing due", () => {
  expect(due(state(), at(60))).toEqual([]);
});

test("a revocation since the delta: a delta at once, a full CRL once the full one is old enough", () => {
  expect(due(state(revoked), at(60))).toEqual(["delta"]);
  expect(due(state(revoked), at(fullRefreshSeconds - 1))).toEqual(["delta"]);
  expect(due(state(revoked), at(fullRefreshSeconds))).toEqual(["full", "delta"]);
});

test("half a validity gone: the delta at half its own, the full CRL at half its own", () => {
  expect(due(state(), at(deltaCrlValiditySeconds / 2 - 1))).toEqual([]);
  expect(due(state(), at(deltaCrlValiditySeconds / 2))).toEqual(["delta"]);
  expect(due(state(), at(crlValiditySeconds / 2))).toEqual(["full", "delta"]);
});

test("a delta of another base (the base moved on) or none: a delta", () => {
  expect(due(state({ delta: { ...delta, base_number: 6 } }), at(60))).toEqual(["delta"]);
  expect(due(state({ delta: undefined }), at(60))).toEqual(["delta"]);
  expect(due(state({ base: undefined }), at(60))).toEqual(["delta"]);
});

test("a delta on the base, which is older than the newest full CRL: nothing due", () => {
  expect(due(state({ full: { ...full, number: 9 }, base: { number: 7 } }), at(60))).toEqual([]);
});

test("the delta base moves to the next full CRL when there is none, after a day, or once its delta would be large", () => {
  const base = { this_update: t0 };
  expect(movesBase(undefined, undefined, t0)).toBe(true);
  expect(movesBase(base, 0, at(deltaBaseSeconds - 1))).toBe(false);
  expect(movesBase(base, 0, at(deltaBaseSeconds))).toBe(true);
  expect(movesBase(base, deltaBaseMaxChanges, at(60))).toBe(false);
  expect(movesBase(base, deltaBaseMaxChanges + 1, at(60))).toBe(true);
});
