/**
 * The S3 run store as the runtime's RunStoreBackend: working copies under
 * KILN_HOME, the truth in the bucket, all S3 work in the store worker.
 */
import { readFileSync } from "node:fs";
import { acquireRunLock, RunLockedError } from "../runtime/lock.ts";
import { runDir } from "../runtime/paths.ts";
import type { RefreshOptions, RunReplica, RunStoreBackend } from "../runtime/replica.ts";
import { SEAL_ID, sealHome, sealKeyFile } from "../runtime/seal.ts";
import { join } from "node:path";
import { StoreBridge } from "./bridge.ts";
import type { StoreConfig } from "./config.ts";
import { StoreReplica } from "./replica.ts";

/** The S3 store behind the runtime's interface. */
export class S3RunStore implements RunStoreBackend {
  readonly url: string;
  readonly config: StoreConfig;
  #bridge?: StoreBridge;

  constructor(config: StoreConfig) {
    this.config = config;
    this.url = config.url;
  }

  /**
   * Starts the store's thread now, so it loads the S3 SDK while the command
   * reads its template: the first store request is then ready sooner.
   */
  warm(): void {
    void this.#worker;
  }

  get #worker(): StoreBridge {
    return this.#bridge ??= new StoreBridge(this.config);
  }

  async list(): Promise<string[]> {
    return (await this.#worker.call("list")) as string[];
  }

  async leased(runId: string): Promise<boolean> {
    return (await this.#worker.call("leased", { runId })) as boolean;
  }

  async refresh(runId: string, home: string, options: RefreshOptions = {}): Promise<void> {
    const dir = runDir(runId, home);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    let lock;
    try {
      lock = await acquireRunLock(dir, runId);
    } catch (err) {
      // A process on this machine drives the run: its copy is the newest there is.
      if (err instanceof RunLockedError) return;
      throw err;
    }
    try {
      await this.#worker.call("refresh", {
        runId,
        home,
        seals: sealHome(),
        secrets: options.secrets ?? false,
        full: options.full ?? false,
      });
    } finally {
      await lock.release();
    }
  }

  async claim(
    runId: string,
    home: string,
    options: RefreshOptions = {},
  ): Promise<() => Promise<void>> {
    await this.#worker.call("claim", { runId, home, seals: sealHome(), full: options.full });
    // The lease ends when the log closes; this covers a claim whose log never opened.
    return async () => {
      await this.#worker.call("close", { runId });
    };
  }

  replica(runId: string, runDirectory: string, fresh: boolean): RunReplica {
    if (fresh) {
      const keyFile = sealKeyFile(runId, runDirectory);
      if (!keyFile) throw new Error(`run ${runId} has no seal to share`);
      this.#worker.callSync("create", {
        runId,
        dir: runDirectory,
        sealId: readFileSync(join(runDirectory, SEAL_ID), "utf8").trim(),
        key: new Uint8Array(readFileSync(keyFile)).buffer,
      });
    }
    return new StoreReplica(this.#worker, runId);
  }

  /** Requests sent so far, by S3 operation. */
  async requestCounts(): Promise<Record<string, number>> {
    return (await this.#worker.call("counts")) as Record<string, number>;
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.#bridge?.close();
    this.#bridge = undefined;
  }
}
