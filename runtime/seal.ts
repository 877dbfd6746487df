/**
 * The anchor of a run's hash chain. A SHA-256 chain alone only shows that a
 * log is self-consistent: whoever can write `.kiln/` can edit a record and
 * re-hash everything after it. So every run gets a random key, and after
 * each durable append the writer records an HMAC of (run, last seq, last
 * hash) — the seal. Key and seal live outside KILN_HOME (`KILN_SEAL_DIR`,
 * default `$XDG_STATE_HOME/kiln/seals` or `~/.local/state/kiln/seals`), so a
 * forged, re-hashed, cut or swapped log in `.kiln/` no longer matches.
 *
 * The run directory names its seal by a random id (`seal.id`), so runs that
 * share an id in different homes (tests, copies) never share a seal, and a
 * moved `.kiln/` still finds its own. Pointing `seal.id` elsewhere gains
 * nothing: a seal only verifies the chain it was written for.
 *
 * The seal file has two fixed-size slots written alternately, each with its
 * own MAC: a crash while writing one leaves the other, older seal intact.
 */
import { timingSafeEqual } from "node:crypto";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { join } from "node:path";
import { isRunId } from "./run_id.ts";

const SLOT = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The directory holding every run's key and seal. */
export function sealHome(): string {
  const explicit = Deno.env.get("KILN_SEAL_DIR");
  if (explicit) return explicit;
  const state = Deno.env.get("XDG_STATE_HOME") ||
    join(Deno.env.get("HOME") ?? "/root", ".local", "state");
  return join(state, "kiln", "seals");
}

/** The last durably acknowledged record of a run, as the seal attests it. */
export interface SealPoint {
  seq: number;
  hash: string;
}

/** The key and seal of one run. */
export class RunSeal {
  readonly runId: string;
  readonly dir: string;
  /** HMAC keyed once; each MAC clones it (the key's pads are hashed only here). */
  #hmac: ReturnType<typeof hmac.create>;
  #fd?: Deno.FsFile;
  #slot = 0;
  #point: SealPoint;

  private constructor(runId: string, dir: string, key: Uint8Array, point: SealPoint, slot = 0) {
    this.runId = runId;
    this.dir = dir;
    this.#point = point;
    this.#slot = slot;
    this.#hmac = hmac.create(sha256, key);
  }

  /**
   * Makes a new run's seal id (in `runDirectory`), key (0600, never
   * overwritten) and an empty seal.
   */
  static create(runId: string, runDirectory: string, home: string = sealHome()): RunSeal {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    Deno.writeTextFileSync(join(runDirectory, SEAL_ID), id, { createNew: true, mode: 0o600 });
    const dir = sealDirOf(runId, id, home);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    const key = crypto.getRandomValues(new Uint8Array(32));
    Deno.writeFileSync(join(dir, "key"), key, { createNew: true, mode: 0o600 });
    const seal = new RunSeal(runId, dir, key, { seq: 0, hash: "" });
    seal.write(seal.#point);
    return seal;
  }

  /**
   * Loads an existing run's key and newest valid seal; undefined when the
   * run has none here (made by an older kiln, or moved from another machine).
   */
  static load(runId: string, runDirectory: string, home: string = sealHome()): RunSeal | undefined {
    let dir: string;
    let key: Uint8Array;
    try {
      const idFile = join(runDirectory, SEAL_ID);
      if (!Deno.lstatSync(idFile).isFile) return undefined;
      const id = Deno.readTextFileSync(idFile).trim();
      if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
      dir = sealDirOf(runId, id, home);
      const info = Deno.lstatSync(join(dir, "key"));
      if (!info.isFile) return undefined;
      key = Deno.readFileSync(join(dir, "key"));
    } catch {
      return undefined;
    }
    const probe = new RunSeal(runId, dir, key, { seq: -1, hash: "" });
    let bytes = new Uint8Array();
    try {
      bytes = Deno.readFileSync(join(dir, "seal"));
    } catch {
      // No seal at all: the point stays -1 and the caller reports it.
    }
    let best: { point: SealPoint; slot: number } | undefined;
    for (let slot = 0; slot < 2; slot++) {
      const point = probe.#readSlot(bytes.subarray(slot * SLOT, (slot + 1) * SLOT));
      if (point && (!best || point.seq > best.point.seq)) best = { point, slot };
    }
    if (!best) return probe;
    // The next write goes to the other slot, so the newest seal survives a torn write.
    return new RunSeal(runId, dir, key, best.point, best.slot);
  }

  /** The newest sealed point (seq -1 when no valid seal exists). */
  get point(): SealPoint {
    return this.#point;
  }

  /** HMAC-SHA256 (hex) of `text` under the run's key: authenticates snapshots and secrets tables. */
  mac(text: string): string {
    return bytesToHex(this.#hmac.clone().update(encoder.encode(text)).digest());
  }

  /** The MAC every record carries (HMAC-SHA256 of its hash): only this run's writer can make it. */
  recordMac(hash: string): string {
    return this.mac(`kiln-record\0${hash}`);
  }

  /** Whether `mac` is this run's MAC of `text` (constant time). */
  verify(text: string, mac: string): boolean {
    const want = encoder.encode(this.mac(text));
    const got = encoder.encode(mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /**
   * Seals `point` into the older slot. The write reaches the page cache at
   * once, so any later reader (after a kill -9 too) sees it; `sync` also
   * forces it to the disk.
   */
  write(point: SealPoint, sync = true): void {
    const body = this.recordOf(point);
    const slot = encoder.encode(body.padEnd(SLOT - 1, " ") + "\n");
    if (slot.length !== SLOT) throw new Error("seal record too long");
    this.#fd ??= Deno.openSync(join(this.dir, "seal"), {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    this.#slot = 1 - this.#slot;
    this.#fd.seekSync(this.#slot * SLOT, Deno.SeekMode.Start);
    let written = 0;
    while (written < slot.length) written += this.#fd.writeSync(slot.subarray(written));
    if (sync) this.#fd.syncDataSync();
    this.#point = { ...point };
  }

  /** The seal record of `point` (JSON): what a slot holds and a shared store keeps. */
  recordOf(point: SealPoint): string {
    return JSON.stringify({
      run: this.runId,
      seq: point.seq,
      hash: point.hash,
      mac: this.mac(sealText(this.runId, point)),
    });
  }

  /** The record of the newest sealed point. */
  record(): string {
    return this.recordOf(this.#point);
  }

  /** The point a seal record attests, when it is this run's and its MAC verifies. */
  parseRecord(text: string): SealPoint | undefined {
    return this.#readSlot(encoder.encode(text));
  }

  /** Closes the seal file. */
  close(): void {
    this.#fd?.close();
    this.#fd = undefined;
  }

  #readSlot(bytes: Uint8Array): SealPoint | undefined {
    try {
      const rec = JSON.parse(decoder.decode(bytes));
      if (rec.run !== this.runId || typeof rec.seq !== "number" || typeof rec.hash !== "string") {
        return undefined;
      }
      const point = { seq: rec.seq, hash: rec.hash };
      return this.verify(sealText(this.runId, point), String(rec.mac)) ? point : undefined;
    } catch {
      return undefined;
    }
  }
}

function sealText(runId: string, point: SealPoint): string {
  return `kiln-seal\0${runId}\0${point.seq}\0${point.hash}`;
}

/** The file in a run directory that names its seal. */
export const SEAL_ID = "seal.id";

/**
 * The key file of the run in `runDirectory` (named by its seal.id) under
 * seal home `home`: a shared store wraps this key so other machines can
 * verify the run; undefined when the run names no valid seal.
 */
export function sealKeyFile(
  runId: string,
  runDirectory: string,
  home: string = sealHome(),
): string | undefined {
  try {
    const id = Deno.readTextFileSync(join(runDirectory, SEAL_ID)).trim();
    return /^[0-9a-f]{32}$/.test(id) ? join(sealDirOf(runId, id, home), "key") : undefined;
  } catch {
    return undefined;
  }
}

function sealDirOf(runId: string, id: string, home: string): string {
  if (!isRunId(runId)) throw new Error(`"${runId}" is not a run id`);
  return join(home, `${runId}-${id}`);
}
