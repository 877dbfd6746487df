/** Durable per-run secrets: 0600 files in `runs/<id>/secrets/`, registered for masking. */
import { dirname, join } from "node:path";
import { replicaOf } from "./replica.ts";
import type { SecretStore } from "./types.ts";
import type { Masker } from "./masker.ts";
import { assertRealDirectory } from "./log_file.ts";
import { STATE_SECRETS_FILE } from "./secret_refs.ts";

const nameOk = /^[A-Za-z0-9._-]+$/;

/** A SecretStore over `dir` that registers every value it sees with `masker`. */
export class FileSecretStore implements SecretStore {
  readonly dir: string;
  #masker: Masker;

  constructor(dir: string, masker: Masker) {
    this.dir = dir;
    this.#masker = masker;
  }

  /** The file of secret `name`. */
  path(name: string): string {
    if (!nameOk.test(name) || name.startsWith(".")) {
      throw new Error(`invalid secret name "${name}"`);
    }
    return join(this.dir, name);
  }

  /** Stores a secret (0600) and registers it for masking. */
  async put(name: string, value: string | Uint8Array): Promise<string> {
    const file = this.path(name);
    if (typeof value === "string") this.#masker.add(value);
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    // A link planted in the secrets' place would send key material elsewhere.
    assertRealDirectory(this.dir);
    await Deno.chmod(this.dir, 0o700);
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    await Deno.writeFile(file, bytes, { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    // Another machine resuming the run needs it too (encrypted in a shared store).
    replicaOf(dirname(this.dir))?.putSecret(name, bytes);
    return file;
  }

  /** Reads a stored secret (and registers it for masking again, e.g. after resume). */
  async get(name: string): Promise<string | undefined> {
    try {
      const value = await Deno.readTextFile(this.path(name));
      this.#masker.add(value);
      return value;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }

  /** Registers a value for masking. */
  mask(value: string): void {
    this.#masker.add(value);
  }

  /** Re-registers every stored secret (a resumed run must mask what the first process knew). */
  async maskAll(): Promise<void> {
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        // The state-secrets table's values are registered when the log is opened.
        if (entry.isFile && entry.name !== STATE_SECRETS_FILE) {
          this.#masker.add(await Deno.readTextFile(join(this.dir, entry.name)));
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }

  /** Removes every secret but those named in `keep` (and the directory when nothing is kept). */
  async destroyAllBut(keep: string[]): Promise<void> {
    replicaOf(dirname(this.dir))?.removeSecrets(keep);
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (!keep.includes(entry.name)) await Deno.remove(join(this.dir, entry.name));
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }

  /** Removes the directory (run finished successfully or was cleaned up). */
  async destroy(): Promise<void> {
    replicaOf(dirname(this.dir))?.removeSecrets([]);
    await Deno.remove(this.dir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}
