/** The S3 emulator over plain HTTP, path-style, as ec2-upload-bundle and a cleanup step use it. */
import assert from "node:assert/strict";
import { startS3Emulator } from "../support/s3/mod.ts";

Deno.test("S3 emulator: bucket, put/get/head/delete object, ListObjectsV2 with prefix and paging", async () => {
  const s3 = await startS3Emulator();
  try {
    const url = (path: string) => `${s3.endpoint}${path}`;
    assert.equal((await fetch(url("/bundles"), { method: "PUT" })).status, 200);
    const again = await fetch(url("/bundles"), { method: "PUT" });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /<Code>BucketAlreadyOwnedByYou<\/Code>/);
    for (const key of ["a/image.part.00", "a/image.part.01", "a/image.manifest.xml", "b/other"]) {
      const put = await fetch(url(`/bundles/${key}`), { method: "PUT", body: `body of ${key}` });
      assert.equal(put.status, 200);
      assert.match(put.headers.get("etag")!, /^"[0-9a-f]{32}"$/);
      await put.body?.cancel();
    }
    const got = await fetch(url("/bundles/a/image.part.01"));
    assert.equal(await got.text(), "body of a/image.part.01");
    const head = await fetch(url("/bundles/a/image.part.00"), { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String("body of a/image.part.00".length));
    const page1 = await (await fetch(url("/bundles?list-type=2&prefix=a/&max-keys=2"))).text();
    assert.match(page1, /<KeyCount>2<\/KeyCount>/);
    assert.match(page1, /<IsTruncated>true<\/IsTruncated>/);
    const token = page1.match(/<NextContinuationToken>([^<]+)</)![1];
    const page2 = await (await fetch(
      url(`/bundles?list-type=2&prefix=a/&continuation-token=${encodeURIComponent(token)}`),
    )).text();
    assert.match(page2, /<Key>a\/image\.part\.01<\/Key>/);
    assert.doesNotMatch(page2, /b\/other/);
    const missing = await fetch(url("/bundles/nope"));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /<Code>NoSuchKey<\/Code>/);
    const noBucket = await fetch(url("/absent/key"), { method: "PUT", body: "x" });
    assert.equal(noBucket.status, 404);
    assert.match(await noBucket.text(), /<Code>NoSuchBucket<\/Code>/);
    const del = await fetch(url("/bundles/b/other"), { method: "DELETE" });
    assert.equal(del.status, 204);
    const bulk = await fetch(url("/bundles?delete"), {
      method: "POST",
      body:
        "<Delete><Object><Key>a/image.part.00</Key></Object><Object><Key>a/image.part.01</Key></Object></Delete>",
    });
    assert.match(await bulk.text(), /<Deleted><Key>a\/image\.part\.00<\/Key><\/Deleted>/);
    assert.deepEqual(s3.store.listAll(), ["bundles/a/image.manifest.xml"]);
    const notEmpty = await fetch(url("/bundles"), { method: "DELETE" });
    assert.equal(notEmpty.status, 409);
    await notEmpty.body?.cancel();
  } finally {
    await s3.close();
  }
});

Deno.test("S3 emulator decodes the AWS SDK's aws-chunked uploads", async () => {
  const s3 = await startS3Emulator({ buckets: ["b"] });
  try {
    const body =
      "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=0\r\n\r\n";
    const put = await fetch(`${s3.endpoint}/b/k`, {
      method: "PUT",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      },
      body,
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    assert.equal(new TextDecoder().decode(s3.store.get("b", "k")!.body), "hello world");
  } finally {
    await s3.close();
  }
});

Deno.test("S3 emulator answers a path it cannot decode with 400 InvalidURI", async () => {
  const s3 = await startS3Emulator({ buckets: ["b"] });
  try {
    const bad = await fetch(`${s3.endpoint}/b/%E0%A4%A`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /<Code>InvalidURI<\/Code>/);
  } finally {
    await s3.close();
  }
});
