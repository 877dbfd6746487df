/**
 * What every figure of bench/store.ts shares: a scratch directory, a team
 * key, the S3 emulator (its own process) and the environment of a kiln
 * process in either mode — `store` (KILN_STORE set, the working copy under
 * KILN_HOME) or `local` (the same without KILN_STORE: `.kiln/` on local disk
 * is the truth).
 */
import { join } from "node:path";
import { parseStoreUrl, type StoreConfig } from "../../store/config.ts";
import { type EmulatorProcess, startEmulatorProcess } from "./emulator.ts";

/** Where a run's log lives: the shared store, or local disk only. */
export type Mode = "store" | "local";

/** The bench's shared setup. */
export interface BenchLab {
  dir: string;
  /** The team key file every store runner shares. */
  keyFile: string;
  s3: EmulatorProcess;
  /**
   * The environment of one kiln process: `prefix` is the store prefix it
   * uses (figures keep their runs apart), `home` its KILN_HOME.
   */
  env(mode: Mode, prefix: string, home: string, extra?: Record<string, string>): Record<
    string,
    string
  >;
  /** The store under `prefix`, for this process's own store client (figures that look inside). */
  storeConfig(prefix: string): StoreConfig;
  close(): Promise<void>;
}

const BUCKET = "kiln-bench";

/** Starts the emulator process and makes the scratch directory and team key. */
export async function startBenchLab(): Promise<BenchLab> {
  const dir = await Deno.makeTempDir({ prefix: "kiln-storebench-" });
  const keyFile = join(dir, "team.key");
  await Deno.writeFile(keyFile, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
  const s3 = await startEmulatorProcess(BUCKET);
  // For this process's own store client: the emulator takes any credentials.
  Deno.env.set("AWS_ACCESS_KEY_ID", "AKIDKILNBENCH");
  Deno.env.set("AWS_SECRET_ACCESS_KEY", "kiln-bench-secret");
  return {
    dir,
    keyFile,
    s3,
    env: (mode, prefix, home, extra = {}) => ({
      NO_COLOR: "1",
      KILN_HOME: home,
      KILN_SEAL_DIR: join(home, "seals"),
      ...(mode === "store"
        ? {
          KILN_STORE: `s3://${BUCKET}/${prefix}`,
          KILN_STORE_KEY_FILE: keyFile,
          KILN_STORE_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: "AKIDKILNBENCH",
          AWS_SECRET_ACCESS_KEY: "kiln-bench-secret",
          AWS_REGION: "us-east-1",
        }
        : {}),
      ...extra,
    }),
    storeConfig: (prefix) => ({
      ...parseStoreUrl(`s3://${BUCKET}/${prefix}`),
      endpoint: s3.endpoint,
      region: "us-east-1",
      keyFile,
      leaseMs: 60_000,
      waitMs: 30_000,
    }),
    close: async () => {
      await s3.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The run id a build printed. */
export function runIdOf(output: string): string {
  const m = /\b(\d{8}T\d{6}Z-[0-9a-f]{6})\b/.exec(output);
  if (!m) throw new Error(`no run id in kiln's output:\n${output.slice(-800)}`);
  return m[1];
}
