/**
 * Logged-in sessions on one token, lent out one operation at a time. A PKCS#11 session runs one
 * cryptographic operation at a time (v2.40 §5.2: C_SignInit on a busy session fails with
 * CKR_OPERATION_ACTIVE), so concurrent signers each borrow their own session; the login is the
 * application's, shared by all its sessions with the token (§6.7.3), so it is made once.
 */
import pkcs11js from "pkcs11js";
import { KeyfleetError } from "../domain/index.js";
import { isCkr, pkcs11Failure, type Cryptoki, type Pkcs11Handle } from "./pkcs11-module.js";

export class Pkcs11SessionPool {
  readonly #idle: Pkcs11Handle[] = [];
  readonly #waiting: { resolve: (session: Pkcs11Handle) => void; reject: (e: Error) => void }[] = [];
  #open = 0;
  #closed = false;

  constructor(
    private readonly cryptoki: Cryptoki,
    private readonly slot: Pkcs11Handle,
    private readonly pin: string,
    /** Sessions at most; SoftHSM has no limit of its own, a secure element often has a handful. */
    private readonly maxSessions = 8,
  ) {}

  /** Runs `operation` on a session of its own; the session goes back to the pool after, whatever happens. */
  async run<T>(doing: string, operation: (session: Pkcs11Handle) => T | Promise<T>): Promise<T> {
    const session = await this.#acquire(doing);
    let broken = false;
    try {
      return await operation(session);
    } catch (e) {
      broken = isCkr(e, pkcs11js.CKR_SESSION_HANDLE_INVALID) || isCkr(e, pkcs11js.CKR_SESSION_CLOSED);
      throw pkcs11Failure(e, doing);
    } finally {
      this.#release(session, broken);
    }
  }

  /** Closes every idle session; borrowed ones close as they come back. */
  close(): void {
    this.#closed = true;
    for (const session of this.#idle.splice(0)) this.#closeSession(session);
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(
        new KeyfleetError(
          "store-unavailable",
          "the PKCS#11 key store was closed while waiting for a session",
        ),
      );
    }
  }

  async #acquire(doing: string): Promise<Pkcs11Handle> {
    if (this.#closed)
      throw new KeyfleetError("store-unavailable", `${doing}: the PKCS#11 key store is closed`);
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < this.maxSessions) return this.#openSession(doing);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #release(session: Pkcs11Handle, broken: boolean): void {
    if (broken || this.#closed) {
      this.#closeSession(session);
      return;
    }
    const next = this.#waiting.shift();
    if (next) next.resolve(session);
    else this.#idle.push(session);
  }

  #openSession(doing: string): Pkcs11Handle {
    let session: Pkcs11Handle;
    try {
      // RW: generating and destroying token objects needs a read/write session (§5.6).
      session = this.cryptoki.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (e) {
      throw pkcs11Failure(e, `${doing}: opening a session`);
    }
    try {
      this.cryptoki.C_Login(session, pkcs11js.CKU_USER, this.pin);
    } catch (e) {
      if (!isCkr(e, pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
        this.cryptoki.C_CloseSession(session);
        throw pkcs11Failure(e, doing);
      }
    }
    this.#open++;
    return session;
  }

  #closeSession(session: Pkcs11Handle): void {
    this.#open--;
    try {
      this.cryptoki.C_CloseSession(session);
    } catch {
      // Closing a session the token already dropped (removed, finalized) has nothing left to undo.
    }
  }
}
