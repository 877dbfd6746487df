/**
 * Temporary local files the Ansible provisioner hands to ansible-playbook
 * (the inventory, private keys) as ledger resources: each is claimed in the
 * run's ledger before it is written (write-ahead), written 0600 with
 * create-new, and removed — and struck from the ledger — when the
 * provisioner ends. A `kill -9` in between leaves a claim `kiln cleanup`
 * acts on. By default they go to TMPDIR, which the CLI points at the run's
 * own 0700 temp directory. Only the path ever reaches the ledger, never the
 * content: a key file's bytes are a secret.
 */
import { join, resolve } from "node:path";
import type { ResourceLedger } from "../../runtime/types.ts";
import { claimRecord } from "../../runtime/local_path_resource.ts";
import { PROVISIONER_TEMP_FILE } from "../../runtime/resource_handlers.ts";

/** A written temporary file; `remove()` deletes it and its ledger entry (idempotent). */
export interface LedgeredFile {
  path: string;
  remove(): Promise<void>;
  /**
   * Leaves the file on disk for the user (keep_inventory_file): it leaves the
   * ledger, so neither the build's end nor `cleanup` deletes it.
   */
  keep(): Promise<void>;
}

/** The system temp directory as Go's os.TempDir sees it (TMPDIR, else /tmp). */
export function tempDir(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

/** Writes `content` to a fresh `<dir>/<prefix><random>` (mode 0600) through the ledger. */
export async function writeLedgeredFile(
  ledger: ResourceLedger | undefined,
  dir: string,
  prefix: string,
  content: string,
  purpose: string,
): Promise<LedgeredFile> {
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const path = resolve(join(dir, `${prefix}${suffix}`));
  // Temporary: a copy a killed attempt left (its claim still live after `--resume`) is
  // deleted with the build's other temporary resources once the build succeeds.
  await ledger?.created({
    ...claimRecord(PROVISIONER_TEMP_FILE, path, { purpose }, true),
    temporary: true,
  });
  await Deno.writeTextFile(path, content, { createNew: true, mode: 0o600 });
  await Deno.chmod(path, 0o600); // the umask may have taken bits away, never added: be exact
  let done = false;
  return {
    path,
    async keep() {
      done = true;
      await ledger?.deleted({ kind: PROVISIONER_TEMP_FILE, id: path });
    },
    async remove() {
      if (done) return;
      done = true;
      await Deno.remove(path).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
      await ledger?.deleted({ kind: PROVISIONER_TEMP_FILE, id: path });
    },
  };
}
