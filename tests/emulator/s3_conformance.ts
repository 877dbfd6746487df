/**
 * S3 conformance cases, written against an endpoint rather than the emulator,
 * so the same cases run against the project's emulator and against another S3
 * implementation (moto) to cross-check it. Each case gets a fresh bucket and
 * asserts what an AWS SDK user sees: error names and HTTP status codes.
 */
import assert from "node:assert/strict";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { s3ClientFor, sdkFailure } from "../support/s3/client.ts";

/** What a case runs against. */
export interface ConformanceTarget {
  client: S3Client;
  bucket: string;
}

/** One behaviour, named as the test step reports it. */
export interface ConformanceCase {
  name: string;
  run(target: ConformanceTarget): Promise<void>;
}

const QUOTED_MD5 = /^"[0-9a-f]{32}"$/;

async function put(t: ConformanceTarget, key: string, body: string, extra = {}) {
  return await t.client.send(
    new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: body, ...extra }),
  );
}

async function text(t: ConformanceTarget, key: string): Promise<string> {
  const got = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return await got.Body!.transformToString();
}

async function listAll(
  t: ConformanceTarget,
  input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; StartAfter?: string },
): Promise<{ pages: ListObjectsV2CommandOutput[]; keys: string[]; prefixes: string[] }> {
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await t.client.send(
      new ListObjectsV2Command({ Bucket: t.bucket, ContinuationToken: token, ...input }),
    );
    pages.push(page);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) assert.ok(token, "a truncated page carries NextContinuationToken");
    assert.ok(pages.length < 100, "listing does not end");
  } while (token);
  return {
    pages,
    keys: pages.flatMap((p) => (p.Contents ?? []).map((o) => o.Key!)),
    prefixes: pages.flatMap((p) => (p.CommonPrefixes ?? []).map((o) => o.Prefix!)),
  };
}

/** The cases; every S3 implementation that claims conditional writes should pass them. */
export const conformanceCases: ConformanceCase[] = [
  {
    name: "PutObject answers a quoted MD5 ETag, and GetObject/HeadObject repeat it",
    async run(t) {
      const put1 = await put(t, "k", "hello");
      assert.match(put1.ETag!, QUOTED_MD5);
      assert.equal(put1.ETag, '"5d41402abc4b2a76b9719d911017c592"');
      const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: "k" }));
      assert.equal(head.ETag, put1.ETag);
      assert.equal(head.ContentLength, 5);
      const got = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: "k" }));
      assert.equal(got.ETag, put1.ETag);
      assert.equal(await got.Body!.transformToString(), "hello");
    },
  },
  {
    name:
      "PutObject If-None-Match: * creates a missing key and is 412 PreconditionFailed on an existing one",
    async run(t) {
      const first = await put(t, "seg/000001", "first", { IfNoneMatch: "*" });
      assert.match(first.ETag!, QUOTED_MD5);
      const second = await sdkFailure(put(t, "seg/000001", "second", { IfNoneMatch: "*" }));
      assert.deepEqual(second, { name: "PreconditionFailed", status: 412 });
      assert.equal(await text(t, "seg/000001"), "first", "the refused write changed nothing");
    },
  },
  {
    name: "PutObject If-Match replaces on the current ETag and is 412 on a stale one",
    async run(t) {
      const v1 = await put(t, "lease", "v1");
      const v2 = await put(t, "lease", "v2", { IfMatch: v1.ETag });
      assert.notEqual(v2.ETag, v1.ETag);
      const stale = await sdkFailure(put(t, "lease", "v3", { IfMatch: v1.ETag }));
      assert.deepEqual(stale, { name: "PreconditionFailed", status: 412 });
      assert.equal(await text(t, "lease"), "v2");
    },
  },
  {
    name: "PutObject If-Match on a missing key is 404 NoSuchKey and creates nothing",
    async run(t) {
      const missing = await sdkFailure(
        put(t, "absent", "x", { IfMatch: '"5d41402abc4b2a76b9719d911017c592"' }),
      );
      assert.deepEqual(missing, { name: "NoSuchKey", status: 404 });
      const after = await sdkFailure(text(t, "absent"));
      assert.equal(after.name, "NoSuchKey");
    },
  },
  {
    name: "PutObject If-None-Match with an ETag instead of * is 501 NotImplemented",
    async run(t) {
      const { ETag } = await put(t, "k", "v1");
      const refused = await sdkFailure(put(t, "k", "v2", { IfNoneMatch: ETag }));
      assert.deepEqual(refused, { name: "NotImplemented", status: 501 });
      assert.equal(await text(t, "k"), "v1");
    },
  },
  {
    name: "GetObject If-Match mismatch is 412; If-None-Match on the current ETag is 304",
    async run(t) {
      const { ETag } = await put(t, "k", "body");
      const ok = await t.client.send(
        new GetObjectCommand({ Bucket: t.bucket, Key: "k", IfMatch: ETag }),
      );
      assert.equal(await ok.Body!.transformToString(), "body");
      const mismatch = await sdkFailure(
        t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: "k", IfMatch: '"0123"' })),
      );
      assert.deepEqual(mismatch, { name: "PreconditionFailed", status: 412 });
      const unchanged = await sdkFailure(
        t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: "k", IfNoneMatch: ETag })),
      );
      assert.equal(unchanged.status, 304);
      const changed = await t.client.send(
        new GetObjectCommand({ Bucket: t.bucket, Key: "k", IfNoneMatch: '"0123"' }),
      );
      assert.equal(await changed.Body!.transformToString(), "body");
      const missing = await sdkFailure(
        t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: "nope", IfMatch: ETag })),
      );
      assert.deepEqual(missing, { name: "NoSuchKey", status: 404 });
    },
  },
  {
    name: "HeadObject If-Match mismatch is 412; If-None-Match on the current ETag is 304",
    async run(t) {
      const { ETag } = await put(t, "k", "body");
      const head = (extra: object) =>
        t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: "k", ...extra }));
      assert.equal((await head({ IfMatch: ETag })).ETag, ETag);
      assert.equal((await sdkFailure(head({ IfMatch: '"0123"' }))).status, 412);
      assert.equal((await sdkFailure(head({ IfNoneMatch: ETag }))).status, 304);
      const missing = await sdkFailure(
        t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: "nope" })),
      );
      assert.deepEqual(missing, { name: "NotFound", status: 404 });
    },
  },
  {
    name:
      "DeleteObject If-Match: 412 on a different ETag, 404 NoSuchKey on a missing key, 204 on a match",
    async run(t) {
      const { ETag } = await put(t, "lease", "held");
      const del = (key: string, IfMatch?: string) =>
        t.client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: key, IfMatch }));
      assert.deepEqual(await sdkFailure(del("lease", '"0123"')), {
        name: "PreconditionFailed",
        status: 412,
      });
      assert.equal(await text(t, "lease"), "held", "the refused delete removed nothing");
      assert.deepEqual(await sdkFailure(del("absent", ETag)), { name: "NoSuchKey", status: 404 });
      assert.equal((await del("lease", ETag)).$metadata.httpStatusCode, 204);
      assert.equal((await sdkFailure(text(t, "lease"))).name, "NoSuchKey");
      assert.equal(
        (await del("absent")).$metadata.httpStatusCode,
        204,
        "unconditional delete of nothing",
      );
    },
  },
  {
    name: "DeleteObjects deletes every listed key and reports each",
    async run(t) {
      await put(t, "a", "1");
      await put(t, "b", "2");
      const out = await t.client.send(
        new DeleteObjectsCommand({
          Bucket: t.bucket,
          Delete: { Objects: [{ Key: "a" }, { Key: "b" }] },
        }),
      );
      assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ["a", "b"]);
      const left = await t.client.send(new ListObjectsV2Command({ Bucket: t.bucket }));
      assert.equal(left.KeyCount, 0);
    },
  },
  {
    name:
      "DeleteObjects with an ETag per object deletes on a match and reports PreconditionFailed otherwise",
    async run(t) {
      const a = await put(t, "a", "1");
      await put(t, "b", "2");
      const out = await t.client.send(
        new DeleteObjectsCommand({
          Bucket: t.bucket,
          Delete: { Objects: [{ Key: "a", ETag: a.ETag }, { Key: "b", ETag: '"0123"' }] },
        }),
      );
      assert.deepEqual(out.Deleted?.map((d) => d.Key), ["a"]);
      assert.deepEqual(out.Errors?.map((e) => [e.Key, e.Code]), [["b", "PreconditionFailed"]]);
      assert.equal(await text(t, "b"), "2");
    },
  },
  {
    name: "ListObjectsV2: prefix, delimiter with CommonPrefixes, start-after, UTF-8 binary order",
    async run(t) {
      const keys = [
        "runs/r1/seg/1",
        "runs/r1/seg/2",
        "runs/r1/lease",
        "runs/r2/seal",
        "runs/top",
        "other",
        "runs/B",
        "runs/a",
        "runs/a\u{e000}",
        "runs/a\u{1f600}",
      ];
      for (const key of keys) await put(t, key, key);
      const all = await listAll(t, { Prefix: "runs/" });
      // UTF-8 byte order: 'B' < 'a'; U+E000 (EE 80 80) < U+1F600 (F0 9F 98 80), unlike UTF-16 order.
      assert.deepEqual(all.keys, [
        "runs/B",
        "runs/a",
        "runs/a\u{e000}",
        "runs/a\u{1f600}",
        "runs/r1/lease",
        "runs/r1/seg/1",
        "runs/r1/seg/2",
        "runs/r2/seal",
        "runs/top",
      ]);
      const rolled = await listAll(t, { Prefix: "runs/", Delimiter: "/" });
      assert.deepEqual(rolled.prefixes, ["runs/r1/", "runs/r2/"]);
      assert.deepEqual(rolled.keys, [
        "runs/B",
        "runs/a",
        "runs/a\u{e000}",
        "runs/a\u{1f600}",
        "runs/top",
      ]);
      assert.equal(rolled.pages[0].KeyCount, 7, "KeyCount counts keys and CommonPrefixes");
      const after = await listAll(t, { Prefix: "runs/r1/", StartAfter: "runs/r1/seg/1" });
      assert.deepEqual(after.keys, ["runs/r1/seg/2"]);
    },
  },
  {
    name: "ListObjectsV2 pages with max-keys and continuation tokens, CommonPrefixes once each",
    async run(t) {
      for (const key of ["a/1", "a/2", "b", "c/1", "c/2", "c/3", "d"]) await put(t, key, key);
      const paged = await listAll(t, { Delimiter: "/", MaxKeys: 1 });
      assert.deepEqual(paged.prefixes, ["a/", "c/"]);
      assert.deepEqual(paged.keys, ["b", "d"]);
      assert.equal(paged.pages.length, 4);
      assert.ok(paged.pages.slice(0, 3).every((p) => p.IsTruncated && p.KeyCount === 1));
      assert.equal(paged.pages[3].IsTruncated, false);
      const flat = await listAll(t, { MaxKeys: 3 });
      assert.deepEqual(flat.keys, ["a/1", "a/2", "b", "c/1", "c/2", "c/3", "d"]);
      assert.equal(flat.pages.length, 3);
    },
  },
  {
    name:
      "ListObjectsV2 over more than 1000 keys: 1000 a page, then the rest by continuation token",
    async run(t) {
      const keys = Array.from({ length: 1003 }, (_, i) => `seg/${String(i).padStart(6, "0")}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => put(t, k, "s")));
      }
      const listed = await listAll(t, {});
      assert.equal(listed.pages.length, 2);
      assert.equal(listed.pages[0].KeyCount, 1000);
      assert.equal(listed.pages[0].MaxKeys, 1000);
      assert.equal(listed.pages[1].KeyCount, 3);
      assert.deepEqual(listed.keys, keys);
    },
  },
  {
    name: "ListObjectsV2 never returns more than 1000 keys, even when max-keys asks for more",
    async run(t) {
      const keys = Array.from({ length: 1001 }, (_, i) => `k/${String(i).padStart(6, "0")}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => put(t, k, "s")));
      }
      const capped = await t.client.send(
        new ListObjectsV2Command({ Bucket: t.bucket, MaxKeys: 5000 }),
      );
      assert.equal(capped.KeyCount, 1000);
      assert.equal(capped.IsTruncated, true);
    },
  },
  {
    name: "ListObjectsV2 refuses a continuation token it never issued with 400 InvalidArgument",
    async run(t) {
      await put(t, "a", "1");
      const refused = await sdkFailure(
        t.client.send(
          new ListObjectsV2Command({ Bucket: t.bucket, ContinuationToken: "not-a-token" }),
        ),
      );
      assert.deepEqual(refused, { name: "InvalidArgument", status: 400 });
    },
  },
  {
    name: "Missing bucket is NoSuchBucket; missing key is NoSuchKey",
    async run(t) {
      const noBucket = await sdkFailure(
        t.client.send(new GetObjectCommand({ Bucket: `${t.bucket}-absent`, Key: "k" })),
      );
      assert.deepEqual(noBucket, { name: "NoSuchBucket", status: 404 });
      const noKey = await sdkFailure(text(t, "k"));
      assert.deepEqual(noKey, { name: "NoSuchKey", status: 404 });
    },
  },
];

let bucketSerial = 0;

/**
 * Registers one Deno test whose steps are the conformance cases, run against
 * the endpoint `start` brings up (and `stop` takes down). Cases named in
 * `skip` are ignored with their reason shown in the step name.
 */
export function registerConformance(
  label: string,
  start: () => Promise<{ endpoint: string; stop(): Promise<void> }>,
  options: { ignore?: string; skip?: Record<string, string> } = {},
): void {
  Deno.test({
    name: options.ignore ? `${label} (skipped: ${options.ignore})` : label,
    ignore: options.ignore !== undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const server = await start();
      const client = s3ClientFor(server.endpoint);
      try {
        for (const c of conformanceCases) {
          const reason = options.skip?.[c.name];
          await t.step({
            name: reason ? `${c.name} (skipped: ${reason})` : c.name,
            ignore: reason !== undefined,
            fn: async () => {
              const bucket = `conformance-${Date.now()}-${++bucketSerial}`;
              await client.send(new CreateBucketCommand({ Bucket: bucket }));
              await c.run({ client, bucket });
            },
          });
        }
      } finally {
        client.destroy();
        await server.stop();
      }
    },
  });
}
