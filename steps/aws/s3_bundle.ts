/**
 * The uploaded bundle (parts + manifest under `<bucket>/<prefix>.`) as a
 * ledger resource: a build that fails after the upload — or a `kiln cleanup`
 * after a crash — deletes it, where Packer leaves it in S3 for good.
 * The S3 endpoint follows the SDK's standard override, AWS_ENDPOINT_URL_S3.
 */
import type { ResourceHandler } from "../../runtime/types.ts";
import { accessConfig, requestHandlerFor, staticCredentials } from "./client.ts";
import { debugLogEnabled, sdkDebugLogger } from "../../runtime/debug_log.ts";

/** Ledger kind of an uploaded bundle. */
export const S3_BUNDLE_KIND = "aws.s3_bundle";

/** Splits `s3_bucket` ("bucket" or "bucket/some/path") into bucket and key prefix. */
export function bundleLocation(
  s3Bucket: string,
  prefix: string,
): { bucket: string; keyPrefix: string } {
  const [bucket, ...path] = s3Bucket.split("/");
  const dir = path.filter((p) => p !== "").join("/");
  return { bucket, keyPrefix: `${dir ? `${dir}/` : ""}${prefix}.` };
}

/** Deletes every object of a bundle; none left counts as done. */
export const s3BundleHandler: ResourceHandler = {
  async delete(ctx, resource) {
    const { S3Client, ListObjectsV2Command, DeleteObjectCommand } = await import(
      "@aws-sdk/client-s3"
    );
    const access = accessConfig(ctx.config, resource.region);
    const endpoint = Deno.env.get("AWS_ENDPOINT_URL_S3");
    const s3 = new S3Client({
      region: access.region,
      endpoint: endpoint || undefined,
      forcePathStyle: Boolean(endpoint),
      credentials: staticCredentials(access),
      requestHandler: await requestHandlerFor(access),
      // PACKER_LOG: every API call (the SDK leaves credentials out; the log masks secrets).
      logger: debugLogEnabled() ? sdkDebugLogger("aws s3") : undefined,
    });
    const bucket = String(resource.data?.bucket ?? "");
    const keyPrefix = String(resource.data?.keyPrefix ?? "");
    ctx.ui.say(`Deleting the bundle s3://${bucket}/${keyPrefix}* because the build did not finish`);
    try {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }),
          { abortSignal: ctx.signal },
        );
        for (const object of page.Contents ?? []) {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }), {
            abortSignal: ctx.signal,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      if ((err as { name?: string }).name !== "NoSuchBucket") throw err;
    } finally {
      s3.destroy();
    }
  },
};
