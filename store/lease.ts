/**
 * The run's lease: which runner drives it, until when. The lock of a local
 * run is a file whose owner process can be checked; across machines nobody
 * can check a process, so ownership is a lease object the owner renews by
 * conditional writes (If-Match on its ETag). A runner that dies stops
 * renewing; once the lease has expired another runner may take it over,
 * again by a conditional write, so exactly one of several contenders wins.
 *
 * A runner that cannot renew in time, or finds its lease taken, has lost
 * the run: it stops before its next side effect (see Lease.ensure). Expiry
 * compares wall clocks of different machines: keep them in sync (NTP);
 * the lease lasts KILN_STORE_LEASE_SECONDS, far above ordinary skew.
 */
import { hostname } from "node:os";
import { RunRefusedError } from "../runtime/errors.ts";
import type { StoreClient } from "./s3.ts";

/** The lease object's body. */
export interface LeaseBody {
  owner: string;
  host: string;
  pid: number;
  expiresAt: string;
  released?: boolean;
}

/** This runner lost the run (lease taken over or not renewable). */
export class LeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LeaseLostError";
  }
}

const enc = new TextEncoder();

function parse(bytes: Uint8Array): LeaseBody | undefined {
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes));
    return typeof body?.owner === "string" && typeof body?.expiresAt === "string"
      ? body
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a lease body still holds the run at `now`. */
export function leaseLive(body: LeaseBody | undefined, now = Date.now()): boolean {
  return body !== undefined && !body.released && Date.parse(body.expiresAt) > now;
}

function holder(body: LeaseBody): string {
  return `${body.host} pid ${body.pid}`;
}

/** A lease this process holds. */
export class Lease {
  readonly runId: string;
  #client: StoreClient;
  #key: string;
  #ttl: number;
  #owner = crypto.randomUUID();
  #etag = "";
  #expiresAt = 0;
  #lost?: string;
  #timer?: ReturnType<typeof setTimeout>;
  #renewing?: Promise<void>;

  private constructor(client: StoreClient, key: string, runId: string) {
    this.#client = client;
    this.#key = key;
    this.runId = runId;
    this.#ttl = client.config.leaseMs;
  }

  #body(released = false): Uint8Array {
    const expiresAt = released ? Date.now() : Date.now() + this.#ttl;
    const body: LeaseBody = {
      owner: this.#owner,
      host: hostname(),
      pid: Deno.pid,
      expiresAt: new Date(expiresAt).toISOString(),
      ...(released ? { released: true } : {}),
    };
    return enc.encode(JSON.stringify(body));
  }

  /** Takes the lease of a run this process has just created (nobody else can hold it). */
  static async fresh(client: StoreClient, key: string, runId: string): Promise<Lease> {
    const lease = new Lease(client, key, runId);
    const started = Date.now();
    const etag = await client.create(key, lease.#body());
    if (etag === undefined) {
      throw new RunRefusedError(`run ${runId} already has a lease in ${client.config.url}`);
    }
    lease.#held(etag, started);
    return lease;
  }

  /**
   * Takes over the lease of an existing run. A live lease whose holder keeps
   * renewing it means a live runner: refused. A lease nobody renews is
   * waited out (at most its remaining time) and then taken.
   */
  static async claim(client: StoreClient, key: string, runId: string): Promise<Lease> {
    const lease = new Lease(client, key, runId);
    let seen: string | undefined;
    for (;;) {
      const started = Date.now();
      const current = await client.get(key);
      const body = current ? parse(current.body) : undefined;
      if (!current || !leaseLive(body)) {
        const etag = current
          ? await client.replace(key, lease.#body(), current.etag)
          : await client.create(key, lease.#body());
        if (etag !== undefined) {
          lease.#held(etag, started);
          return lease;
        }
        const now = await client.get(key);
        const winner = now ? parse(now.body) : undefined;
        throw new RunRefusedError(
          `run ${runId}: another runner${
            winner ? ` (${holder(winner)})` : ""
          } took its lease at the same moment; it drives the run now`,
        );
      }
      if (seen !== undefined && seen !== current.etag) {
        throw new RunRefusedError(
          `run ${runId} is being driven by another runner (${holder(body!)}), which keeps ` +
            `renewing its lease (until ${body!.expiresAt}); refusing to touch it`,
        );
      }
      seen = current.etag;
      const left = Date.parse(body!.expiresAt) - Date.now();
      // Waiting a third of a lease sees a live holder renew; a dead one's lease runs out.
      const wait = Math.max(50, Math.min(left + 100, client.config.leaseMs / 3 + 100));
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  #held(etag: string, started: number): void {
    this.#etag = etag;
    // Counted from before the request: the store may have seen it that early.
    this.#expiresAt = started + this.#ttl;
    this.#timer = setInterval(() => this.#renewOnce(), Math.max(100, this.#ttl / 3));
  }

  /**
   * One renewal at a time: two in flight would send the same ETag, and the
   * loser's 412 would read as the lease taken over (by ourselves).
   */
  #renewOnce(): Promise<void> {
    return this.#renewing ??= this.renew().catch(() => {}).finally(() =>
      this.#renewing = undefined
    );
  }

  /** Renews the lease now; records the loss when it was taken. */
  async renew(): Promise<void> {
    if (this.#lost) return;
    const started = Date.now();
    const etag = await this.#client.replace(this.#key, this.#body(), this.#etag);
    if (etag === undefined) {
      const now = await this.#client.get(this.#key).catch(() => undefined);
      const other = now ? parse(now.body) : undefined;
      this.#lost = `this runner lost run ${this.runId}: its lease was taken over` +
        (other ? ` by ${holder(other)}` : "");
      this.stop();
      return;
    }
    this.#etag = etag;
    this.#expiresAt = started + this.#ttl;
  }

  /**
   * Throws LeaseLostError unless this process still holds the lease with
   * time to spare; renews first when it is close to expiry.
   */
  async ensure(): Promise<void> {
    if (!this.#lost && Date.now() > this.#expiresAt - this.#ttl / 3) await this.#renewOnce();
    // A renewal that outlasted the lease (the store was unreachable a while) wrote an expiry
    // already past. Still holding the ETag, a fresh conditional renewal says whether the run is
    // still ours: it fails if another runner took the expired lease meanwhile.
    if (!this.#lost && Date.now() >= this.#expiresAt) await this.#renewOnce();
    if (this.#lost) throw new LeaseLostError(this.#lost);
    if (Date.now() >= this.#expiresAt) {
      throw new LeaseLostError(
        `this runner could not renew its lease on run ${this.runId} before it expired; ` +
          `another runner may have taken the run over`,
      );
    }
  }

  /** Stops renewing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Gives the lease back (marks it released, only if it is still ours). */
  async release(): Promise<void> {
    this.stop();
    await this.#renewing;
    if (this.#lost) return;
    await this.#client.replace(this.#key, this.#body(true), this.#etag).catch(() => {});
  }
}

/** Whether run's lease object (bytes) holds the run now. */
export function leaseBytesLive(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && leaseLive(parse(bytes));
}
