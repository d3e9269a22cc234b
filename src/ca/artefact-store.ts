/**
 * Pre-signed artefacts (DESIGN §6): CRLs and CA certificates, produced ahead of need and kept in
 * memory and as files in the data directory, so the plain-HTTP listener serves them without the
 * database — through a database outage, and after a restart during one (the files are read back).
 * A file is replaced atomically (written beside, flushed, renamed), so a reader — a relying party,
 * a broker's `crlfile`, a web server pointed at the directory — never sees half of one.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { replaceFile } from "../data-directory.js";
import { KeyfleetError, quoted } from "../domain/index.js";

export interface Artefact {
  readonly bytes: Uint8Array;
  /** A strong ETag: the SHA-256 of the bytes, quoted (RFC 9110 §8.8.3). */
  readonly etag: string;
  /** When it was made (a CRL's thisUpdate). */
  readonly lastModified: Date;
  /** When relying parties must stop using it (a CRL's nextUpdate); null: never (a CA certificate). */
  readonly expires: Date | null;
  /** Which of its kind it is, newer is higher (a CRL's CRL Number); 0 for a CA certificate. */
  readonly number: bigint;
}

/** `crl/<ca>.crl`, `crl/<ca>-delta.crl`, `ca/<ca>.cer`: the paths they are served at, and their files. */
const namePattern = /^(crl\/ca-[0-9a-f]{1,64}(-s[1-9][0-9]?)?(-delta)?\.crl|ca\/ca-[0-9a-f]{1,64}\.cer)$/;

export function artefactOf(
  bytes: Uint8Array,
  lastModified: Date,
  expires: Date | null,
  number = 0n,
): Artefact {
  const etag = `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"`;
  return { bytes, etag, lastModified, expires, number };
}

export class ArtefactStore {
  readonly #items = new Map<string, Artefact>();

  /** `dir`: the data directory; artefacts live under its `crl/` and `ca/`. */
  constructor(readonly dir: string) {}

  get(name: string): Artefact | undefined {
    return this.#items.get(name);
  }

  /**
   * Writes the file, then serves it: a reader told of it (an event) finds the file in place. An
   * artefact older than the one served (a lower CRL Number) is neither written nor served.
   */
  async put(name: string, artefact: Artefact): Promise<void> {
    checkName(name);
    const served = this.#items.get(name);
    if (served && served.number > artefact.number) return;
    const [folder] = name.split("/");
    await mkdir(join(this.dir, folder!), { recursive: true, mode: 0o755 });
    await replaceFile(join(this.dir, name), artefact.bytes, 0o644); // public: relying parties fetch it
    this.#items.set(name, artefact);
  }

  /**
   * Reads back the files of a folder (at start, before the database answers): each file named as
   * an artefact becomes one, with the times and number `read` finds in it; a file it cannot read is left
   * out (a stray file never stops a start) and reported.
   */
  async load(
    folder: "crl" | "ca",
    read: (bytes: Uint8Array) => { lastModified: Date; expires: Date | null; number: bigint },
  ): Promise<{ loaded: string[]; unreadable: string[] }> {
    const names = await readdir(join(this.dir, folder)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [] as string[];
      throw e;
    });
    const loaded: string[] = [];
    const unreadable: string[] = [];
    for (const file of names.sort()) {
      const name = `${folder}/${file}`;
      if (!namePattern.test(name)) continue;
      try {
        const bytes = new Uint8Array(await readFile(join(this.dir, name)));
        const r = read(bytes);
        this.#items.set(name, artefactOf(bytes, r.lastModified, r.expires, r.number));
        loaded.push(name);
      } catch {
        unreadable.push(name);
      }
    }
    return { loaded, unreadable };
  }
}

function checkName(name: string): void {
  if (!namePattern.test(name)) throw new KeyfleetError("internal", `${quoted(name)} is not an artefact name`);
}
