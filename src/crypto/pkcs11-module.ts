/**
 * A loaded PKCS#11 library (Cryptoki) and the token Keyfleet uses in it. Cryptoki is process-wide
 * state (PKCS#11 v2.40 §5.4: a second C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED, and
 * C_Finalize ends every session of every caller), so one library path is loaded once per process and
 * shared by reference count: the last holder to close finalizes it. This is the one module-level
 * table in crypto, and it exists because the library's own state is global.
 */
import pkcs11js from "pkcs11js";
import { KeyfleetError, quoted } from "../domain/index.js";

export type Cryptoki = pkcs11js.PKCS11;
export type Pkcs11Handle = pkcs11js.Handle;

interface Loaded {
  readonly cryptoki: Cryptoki;
  holders: number;
}

const loaded = new Map<string, Loaded>();

/** A reference to a loaded library; `release()` once per `loadCryptoki()`. */
export interface CryptokiRef {
  readonly cryptoki: Cryptoki;
  release(): void;
}

export function loadCryptoki(modulePath: string): CryptokiRef {
  let entry = loaded.get(modulePath);
  if (!entry) {
    const cryptoki = new pkcs11js.PKCS11();
    try {
      cryptoki.load(modulePath);
    } catch (cause) {
      // dlopen's own reason (no such file, wrong architecture, a missing dependency), one line.
      const why = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!;
      throw new KeyfleetError(
        "invalid-configuration",
        `cannot load the PKCS#11 module ${quoted(modulePath)}: ${why.slice(0, 200)}`,
        { cause, detail: { pkcs11: "module" } },
      );
    }
    try {
      // CKF_OS_LOCKING_OK: pkcs11js runs the *Async calls on libuv's thread pool, so several
      // sessions sign at once; without OS locking the library is told callers are single-threaded
      // (§5.4), and SoftHSM crashes under concurrent signing (FIELD-NOTES).
      cryptoki.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (!isCkr(e, pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
        cryptoki.close();
        throw pkcs11Failure(e, `initializing the PKCS#11 module ${quoted(modulePath)}`);
      }
    }
    entry = { cryptoki, holders: 0 };
    loaded.set(modulePath, entry);
  }
  entry.holders++;
  const held = entry;
  let released = false;
  return {
    cryptoki: held.cryptoki,
    release() {
      if (released) return;
      released = true;
      if (--held.holders > 0) return;
      loaded.delete(modulePath);
      try {
        held.cryptoki.C_Finalize();
      } finally {
        held.cryptoki.close();
      }
    },
  };
}

/**
 * Errors that a setting can fix say which one in `detail.pkcs11` ("module", "token", "pin"), so the
 * caller can name its own setting for it (KEYFLEET_PKCS11_MODULE for the server, a flag for the agent).
 */
export type Pkcs11Part = "module" | "token" | "pin";

/** The slot holding the initialized token labelled `label` (CK_TOKEN_INFO.label is blank-padded to 32). */
export function findTokenSlot(cryptoki: Cryptoki, label: string): Pkcs11Handle {
  const labels: string[] = [];
  let uninitialized = 0;
  for (const slot of cryptoki.C_GetSlotList(true)) {
    const info = cryptoki.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) {
      uninitialized++;
      continue;
    }
    const tokenLabel = info.label.trimEnd();
    if (tokenLabel === label) return slot;
    labels.push(tokenLabel);
  }
  const has = labels.length
    ? `the module has ${labels.map((l) => quoted(l)).join(", ")}`
    : uninitialized
      ? "the module's token is not initialized (initialize it first: softhsm2-util --init-token, pkcs11-tool --init-token)"
      : "the module has no token";
  throw new KeyfleetError("invalid-configuration", `no PKCS#11 token labelled ${quoted(label)}: ${has}`, {
    detail: { pkcs11: "token" },
  });
}

/** The mechanisms the token in `slot` offers (C_GetMechanismList). */
export function mechanismsOf(cryptoki: Cryptoki, slot: Pkcs11Handle): ReadonlySet<number> {
  return new Set(cryptoki.C_GetMechanismList(slot));
}

interface CkrError {
  readonly code: number;
  readonly message: string;
}

/** Whether `e` is a Cryptoki error (pkcs11js Pkcs11Error) with return value `ckr`. */
export function isCkr(e: unknown, ckr: number): boolean {
  return e instanceof pkcs11js.Pkcs11Error && (e as CkrError).code === ckr;
}

/** The CKR_ name of a Cryptoki error, or undefined for anything else. */
export function ckrName(e: unknown): string | undefined {
  return e instanceof pkcs11js.Pkcs11Error ? (e as CkrError).message : undefined;
}

/**
 * A library throw as a KeyfleetError, at the boundary where it happens: a wrong PIN locks the store
 * (key-store-locked), a vanished object is key-not-found, the rest names the CKR_ value.
 */
export function pkcs11Failure(e: unknown, doing: string): KeyfleetError {
  if (e instanceof KeyfleetError) return e;
  const name = ckrName(e);
  if (isCkr(e, pkcs11js.CKR_PIN_INCORRECT) || isCkr(e, pkcs11js.CKR_PIN_LOCKED)) {
    return new KeyfleetError("key-store-locked", `${doing}: the token refused the PIN (${name})`, {
      cause: e,
      detail: { pkcs11: "pin" },
    });
  }
  if (isCkr(e, pkcs11js.CKR_OBJECT_HANDLE_INVALID) || isCkr(e, pkcs11js.CKR_KEY_HANDLE_INVALID)) {
    return new KeyfleetError("key-not-found", `${doing}: the key is no longer in the token (${name})`, {
      cause: e,
    });
  }
  if (isCkr(e, pkcs11js.CKR_TOKEN_NOT_PRESENT) || isCkr(e, pkcs11js.CKR_DEVICE_REMOVED)) {
    return new KeyfleetError("store-unavailable", `${doing}: the token is not present (${name})`, {
      cause: e,
    });
  }
  const what = name ?? (e instanceof Error ? e.message : String(e));
  return new KeyfleetError("internal", `${doing}: PKCS#11 failed with ${what}`, { cause: e });
}
