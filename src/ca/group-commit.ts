/**
 * Group commit: requests that arrive while a batch is being written wait for the next one, and that
 * one writes them all (FIELD-NOTES: 1,000 rows per transaction ≈ 20× single-row commits). A
 * caller's promise settles only after its own rows are durable, so nothing unrecorded is returned.
 * One bad item does not sink its batch: when a batch fails, each of its items is written again
 * alone, so only the item that cannot be written fails (DESIGN §6 asks for a savepoint per item;
 * this costs nothing while batches succeed, where a savepoint is a round trip per item every time).
 */
interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  #waiting: Waiting<T, R>[] = [];
  #draining = false;

  constructor(
    /** Writes a batch atomically; returns one result per item, in order. */
    private readonly commit: (items: readonly T[]) => Promise<readonly R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        // Let finished I/O (CSR verifications, signatures) land before cutting the batch. Without
        // this turn of the event loop, an embedded database whose commit never leaves the loop
        // writes every certificate alone (measured on PGlite: 5,000 batches of 1 for 5,000 certificates).
        await new Promise((resolve) => setImmediate(resolve));
        const batch = this.#waiting.splice(0, this.maxBatch);
        try {
          await this.#write(batch);
        } catch {
          if (batch.length === 1) continue; // #write settled it
          for (const w of batch) await this.#write([w]).catch(() => undefined);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Commits `batch`, settling every caller on success; on failure only a batch of one is settled (rejected). */
  async #write(batch: Waiting<T, R>[]): Promise<void> {
    let results: readonly R[];
    try {
      results = await this.commit(batch.map((w) => w.item));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      throw error;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }
}
