/** The S3 emulator's in-memory buckets and objects. */
import { createHash } from "node:crypto";

/** A stored object. */
export interface S3Object {
  key: string;
  body: Uint8Array;
  etag: string;
  contentType: string;
  lastModified: Date;
}

/** Buckets by name, objects by key. */
export class S3Store {
  readonly buckets = new Map<string, { created: Date; objects: Map<string, S3Object> }>();

  /** Creates a bucket; false when it already exists. */
  createBucket(name: string): boolean {
    if (this.buckets.has(name)) return false;
    this.buckets.set(name, { created: new Date(), objects: new Map() });
    return true;
  }

  /** Stores an object (the bucket must exist). */
  put(bucket: string, key: string, body: Uint8Array, contentType: string): S3Object {
    const etag = `"${createHash("md5").update(body).digest("hex")}"`;
    const object = { key, body, etag, contentType, lastModified: new Date() };
    this.buckets.get(bucket)!.objects.set(key, object);
    return object;
  }

  /** The object, if both bucket and key exist. */
  get(bucket: string, key: string): S3Object | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  /** True when the object exists. */
  has(bucket: string, key: string): boolean {
    return this.get(bucket, key) !== undefined;
  }

  /** Every object as `bucket/key`, sorted — what tests assert leaks against. */
  listAll(): string[] {
    const out: string[] = [];
    for (const [name, bucket] of this.buckets) {
      for (const key of bucket.objects.keys()) out.push(`${name}/${key}`);
    }
    return out.sort();
  }
}
