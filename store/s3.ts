/**
 * The few S3 operations the store needs, with the meaning kiln gives their
 * answers. Conditional writes are the heart of it: `create` (If-None-Match)
 * and `replace` (If-Match) say whether they won. An answer lost on the way
 * back (the write happened, the client saw an error and retried into a 412)
 * is recognised by reading the object back: if it holds exactly our bytes,
 * the write was ours. Throttling, 5xx, timeouts and an unreachable endpoint
 * are waited out (announced once) up to the configured limit, then reported.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { StoreConfig } from "./config.ts";

/** The store could not be reached within the wait limit, or refused the request. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUnavailableError";
  }
}

/** An object as read. */
export interface StoredObject {
  body: Uint8Array;
  etag: string;
}

/** Counts of requests by operation (benchmarks report requests per build). */
export const requestCounts = new Map<string, number>();

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  return (err as { name?: string })?.name ?? "";
}

/** Whether waiting and trying again may help. */
function transient(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return true; // refused, reset, timed out: no answer at all
  return status >= 500 || status === 429 || status === 409 || nameOf(err) === "SlowDown";
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** S3 through the AWS SDK, as the store uses it. */
export class StoreClient {
  readonly config: StoreConfig;
  #s3: S3Client;
  #announced = false;
  /** Called with a message when the store stops answering and the client starts waiting. */
  onWait: (message: string) => void = (m) => console.error(m);

  constructor(config: StoreConfig) {
    this.config = config;
    this.#s3 = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: Boolean(config.endpoint),
      // kiln waits out outages itself (with a limit and a message); the SDK only retries briefly.
      maxAttempts: 2,
      requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000 },
    });
  }

  async #send<T>(op: string, what: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.config.waitMs;
    let delay = 100;
    for (;;) {
      requestCounts.set(op, (requestCounts.get(op) ?? 0) + 1);
      try {
        const out = await call();
        if (this.#announced) {
          this.#announced = false;
          this.onWait(`kiln: the store ${this.config.url} answers again`);
        }
        return out;
      } catch (err) {
        if (!transient(err)) throw err;
        if (Date.now() + delay > deadline) {
          throw new StoreUnavailableError(
            `the store ${this.config.url} did not answer ${what} within ${
              Math.round(this.config.waitMs / 1000)
            } s (${describe(err)})`,
          );
        }
        if (!this.#announced && statusOf(err) !== 409) {
          this.#announced = true;
          this.onWait(
            `kiln: the store ${this.config.url} is not answering (${describe(err)}); waiting up ` +
              `to ${Math.round(this.config.waitMs / 1000)} s before the next event is recorded`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  /** Reads an object; undefined when it does not exist. */
  async get(key: string): Promise<StoredObject | undefined> {
    try {
      return await this.#send("GetObject", `GET ${key}`, async () => {
        const out = await this.#s3.send(
          new GetObjectCommand({ Bucket: this.config.bucket, Key: key }),
        );
        return { body: await out.Body!.transformToByteArray(), etag: out.ETag ?? "" };
      });
    } catch (err) {
      if (statusOf(err) === 404 || nameOf(err) === "NoSuchKey") return undefined;
      throw err;
    }
  }

  /** Writes unconditionally (caches: snapshots). */
  async put(key: string, body: Uint8Array): Promise<string> {
    return await this.#send("PutObject", `PUT ${key}`, async () => {
      const out = await this.#s3.send(
        new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: body }),
      );
      return out.ETag ?? "";
    });
  }

  /**
   * Creates `key` only if it does not exist: the new ETag, or undefined
   * when another writer's object is there.
   */
  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return await this.#conditional(key, body, { IfNoneMatch: "*" });
  }

  /**
   * Replaces `key` only if it still has ETag `etag`: the new ETag, or
   * undefined when it changed or vanished.
   */
  async replace(key: string, body: Uint8Array, etag: string): Promise<string | undefined> {
    return await this.#conditional(key, body, { IfMatch: etag });
  }

  async #conditional(
    key: string,
    body: Uint8Array,
    condition: { IfNoneMatch?: string; IfMatch?: string },
  ): Promise<string | undefined> {
    try {
      return await this.#send("PutObject", `PUT ${key}`, async () => {
        const out = await this.#s3.send(
          new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: body, ...condition }),
        );
        return out.ETag ?? "";
      });
    } catch (err) {
      const status = statusOf(err);
      if (status !== 412 && status !== 404) throw err;
      // Ours after all if it holds exactly our bytes (the first answer was lost).
      const now = await this.get(key);
      return now && equal(now.body, body) ? now.etag : undefined;
    }
  }

  /** Deletes `key` (gone already counts as done). */
  async delete(key: string): Promise<void> {
    await this.#send("DeleteObject", `DELETE ${key}`, async () => {
      await this.#s3.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
    });
  }

  /** Keys under `prefix` after `startAfter`, in order (every page). */
  async list(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    await this.#pages({ Prefix: prefix, StartAfter: startAfter }, (out) => {
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    });
    return keys;
  }

  /** The "directories" directly under `prefix`. */
  async children(prefix: string): Promise<string[]> {
    const names: string[] = [];
    await this.#pages({ Prefix: prefix, Delimiter: "/" }, (out) => {
      for (const p of out.CommonPrefixes ?? []) {
        if (p.Prefix) names.push(p.Prefix.slice(prefix.length).replace(/\/$/, ""));
      }
    });
    return names;
  }

  /** Every page of a listing (a continuation token replaces start-after after the first). */
  async #pages(
    query: { Prefix: string; StartAfter?: string; Delimiter?: string },
    onPage: (out: ListObjectsV2CommandOutput) => void,
  ): Promise<void> {
    let token: string | undefined;
    do {
      const out = await this.#send("ListObjectsV2", `LIST ${query.Prefix}`, () =>
        this.#s3.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            ...query,
            StartAfter: token ? undefined : query.StartAfter,
            ContinuationToken: token,
          }),
        ));
      onPage(out);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** Closes connections. */
  destroy(): void {
    this.#s3.destroy();
  }
}

function describe(err: unknown): string {
  const status = statusOf(err);
  const name = nameOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return status ? `${status} ${name}` : `${name || "error"}: ${message}`.slice(0, 200);
}
