/**
 * The KeyCustody port: no key exists in a store without a record that says so. A key is recorded
 * as `generated` (in a short transaction of its own) before it is first used; the transaction that
 * establishes what it is for (a CA, the audit log) activates it, so the key and its use commit
 * together; a key left `generated` by a crash or a lost race is destroyed, with an audit leaf, by
 * `discard` at once or by `sweep` after a grace. `Tx` is the caller's open transaction (crypto does
 * no I/O of its own; the adapter is src/ca/key-custody.ts).
 */
import type { KeyRef, KeySpec, KeyStoreKind } from "./key-store.js";

/** A key in custody: its URI, the store that holds it, and the id of its record. */
export interface CustodyKey extends KeyRef {
  readonly id: string;
  readonly store: KeyStoreKind;
}

/** A KeySpec and the id its record gets (`key-<ca id>`, `key-audit-…`). */
export interface KeyToGenerate extends KeySpec {
  readonly id: string;
}

export interface KeyCustody<Tx> {
  /** Generates the key and records it as `generated`, before anything signs with it. */
  generate(key: KeyToGenerate): Promise<CustodyKey>;
  /**
   * Inside the transaction that establishes the key: `generated` → `active`. Refused (`conflict`)
   * when the key is no longer `generated` (swept after the grace): the transaction must not commit.
   */
  activate(tx: Tx, key: CustodyKey): Promise<void>;
  /** Destroys keys that will never be established (their transaction failed or lost a race), each with its audit leaf. */
  discard(keys: readonly CustodyKey[]): Promise<void>;
  /** Destroys every key still `generated` past the grace, each with its audit leaf; returns how many. */
  sweep(): Promise<number>;
}
