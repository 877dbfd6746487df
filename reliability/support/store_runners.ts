/**
 * Several runners sharing one run store, around a campaign lab: the
 * project's S3 emulator on loopback, a team key, and kiln processes that
 * each have their own KILN_HOME (their own machine, as far as kiln can
 * tell). Runner "a" works in the lab's own home, so the lab's checks see
 * the first runner as they see any crash trial's process.
 */
import { join } from "node:path";
import { type S3Emulator, startS3Emulator } from "../../tests/support/s3/mod.ts";
import type { EventRecord } from "../../runtime/events.ts";
import type { Lab } from "./labs.ts";
import type { KilnSpawnOptions } from "./kiln_process.ts";

/** Store settings of a trial. */
export interface StoreSettings {
  /** KILN_STORE_LEASE_SECONDS (default 1: takeovers after a kill are quick). */
  leaseSeconds?: number;
  /** KILN_STORE_WAIT_SECONDS (default: kiln's). */
  waitSeconds?: number;
}

/** The store and its runners. */
export interface StoreRunners {
  s3: S3Emulator;
  bucket: string;
  prefix: string;
  /** KILN_HOME of runner `name`. */
  home(name: string): string;
  /** TMPDIR of runner `name` (each runner is its own machine). */
  tmp(name: string): string;
  /** Where runner `name`'s run keys and seals live (store mode keeps them under its home). */
  seals(name: string): string;
  /** How to start kiln as runner `name` in the lab. */
  spawn(name: string, env?: Record<string, string>): KilnSpawnOptions;
  /** Every object of run `runId` in the bucket, by key relative to the run (`log/…`, `seal.json`). */
  objects(runId: string): Map<string, Uint8Array>;
  /** Replaces, adds (body) or deletes (undefined) one of run `runId`'s objects behind kiln's back. */
  write(runId: string, rel: string, body: Uint8Array | undefined): void;
  /** The records of the run's log as the store holds them now, segment after segment. */
  storedRecords(runId: string): EventRecord[];
  /** The store's log as bytes (its segments concatenated in order). */
  storedLog(runId: string): Uint8Array;
  close(): Promise<void>;
}

/** Starts a store for `lab`; close it before the lab. */
export async function openStoreRunners(
  lab: Lab,
  settings: StoreSettings = {},
): Promise<StoreRunners> {
  const bucket = "kiln-runs";
  const prefix = "team/";
  const s3 = await startS3Emulator({ buckets: [bucket] });
  const keyFile = join(lab.dir, "team.key");
  await Deno.writeFile(keyFile, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
  const home = (name: string) => name === "a" ? lab.home : join(lab.dir, `runner-${name}`, ".kiln");
  const tmp = (name: string) => {
    if (name === "a") return lab.tmp;
    const dir = join(lab.dir, `runner-${name}`, "tmp");
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  const objectsOf = () => s3.store.buckets.get(bucket)!.objects;
  const objects = (runId: string) => {
    const root = `${prefix}${runId}/`;
    const out = new Map<string, Uint8Array>();
    for (const [key, o] of objectsOf()) {
      if (key.startsWith(root)) out.set(key.slice(root.length), o.body);
    }
    return out;
  };
  const storedLog = (runId: string) => {
    const parts = [...objects(runId)].filter(([k]) => k.startsWith("log/"))
      .sort(([a], [b]) => a < b ? -1 : 1).map(([, body]) => body);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return {
    s3,
    bucket,
    prefix,
    home,
    tmp,
    seals: (name) => join(home(name), "seals"),
    spawn: (name, env = {}) => {
      const base = lab.spawn(env);
      return {
        ...base,
        home: home(name),
        tmp: tmp(name),
        env: {
          ...base.env,
          KILN_STORE: `s3://${bucket}/${prefix}`,
          KILN_STORE_KEY_FILE: keyFile,
          KILN_STORE_ENDPOINT: s3.endpoint,
          KILN_STORE_LEASE_SECONDS: String(settings.leaseSeconds ?? 1),
          ...(settings.waitSeconds
            ? { KILN_STORE_WAIT_SECONDS: String(settings.waitSeconds) }
            : {}),
          // The store's client needs credentials; the emulator accepts any.
          AWS_ACCESS_KEY_ID: "AKIDKILNSTORE",
          AWS_SECRET_ACCESS_KEY: "kiln-store-test-secret",
          AWS_REGION: "us-east-1",
          // Runners share this machine's id: each says it is a machine of its own.
          KILN_HOST: `runner-${name}`,
          ...env,
        },
      };
    },
    objects,
    write: (runId, rel, body) => {
      const key = `${prefix}${runId}/${rel}`;
      if (body === undefined) objectsOf().delete(key);
      else s3.store.put(bucket, key, body, "application/octet-stream");
    },
    storedRecords: (runId) =>
      new TextDecoder().decode(storedLog(runId)).split("\n").filter((l) => l !== "").flatMap(
        (line) => {
          try {
            return [JSON.parse(line) as EventRecord];
          } catch {
            return [];
          }
        },
      ),
    storedLog,
    close: () => s3.close(),
  };
}
