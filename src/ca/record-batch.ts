/**
 * What the certificates of one group-commit batch write together beside their rows: each item's
 * RecordWith may hand its part to a writer shared by the batch (one per key), which the batch
 * flushes once, after every item, in the batch's transaction. So the registry writes the batch's
 * lifecycle transitions set-based (one device update, one audit append, one event insert, one
 * outbox insert) instead of eight round trips per certificate. A throw anywhere fails the batch,
 * and group commit then writes each item alone, so only the item at fault fails.
 */
export interface BatchWriter {
  flush(): Promise<void>;
}

export interface RecordBatch {
  /** The batch's writer for `key`, made by `make` the first time it is asked for. */
  writer<W extends BatchWriter>(key: object, make: () => W): W;
}

export function recordBatch(): RecordBatch & BatchWriter {
  const writers = new Map<object, BatchWriter>();
  return {
    writer<W extends BatchWriter>(key: object, make: () => W): W {
      let w = writers.get(key);
      if (!w) writers.set(key, (w = make()));
      return w as W;
    },
    async flush() {
      for (const w of writers.values()) await w.flush();
    },
  };
}
