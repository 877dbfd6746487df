/**
 * Runs bundle_upload_command on the instance: ec2-upload-bundle puts the
 * bundle parts and manifest into s3_bucket. The access keys appear in the
 * command line, so they are registered for masking before anything prints.
 */
import type { Step } from "../../runtime/types.ts";
import type { BundleOutput } from "./bundle_volume.ts";
import { runRemote } from "./remote.ts";
import { bundleLocation, S3_BUNDLE_KIND } from "./s3_bundle.ts";
import { regionOf } from "./region.ts";

/** The default command; `-a`/`-s` are left out when the instance has a profile. */
export function defaultBundleUploadCommand(withKeys: boolean): string {
  return "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} " +
    (withKeys ? "-a {{.AccessKey}} -s {{.SecretKey}} " : "") +
    "-d {{.BundleDirectory}} --batch --region {{.Region}} --retry";
}

/** What register-image needs. */
export interface UploadOutput {
  /** `<bucket>/<prefix>.manifest.xml`, RegisterImage's ImageLocation. */
  imageLocation: string;
}

/** The "upload bundle" step. */
export function uploadBundleStep(): Step<UploadOutput> {
  return {
    id: "aws.upload_bundle",
    async run(ctx) {
      const bundle = ctx.state["aws.bundle_volume"] as BundleOutput;
      const accessKey = String(ctx.config.access_key ?? Deno.env.get("AWS_ACCESS_KEY_ID") ?? "");
      const secretKey = String(
        ctx.config.secret_key ?? Deno.env.get("AWS_SECRET_ACCESS_KEY") ?? "",
      );
      const token = String(ctx.config.token ?? Deno.env.get("AWS_SESSION_TOKEN") ?? "");
      for (const secret of [secretKey, token]) if (secret) ctx.secrets.mask(secret);
      const bucket = String(ctx.config.s3_bucket);
      const template = String(
        ctx.config.bundle_upload_command ||
          defaultBundleUploadCommand(!ctx.config.iam_instance_profile),
      );
      const command = ctx.render(template, {
        AccessKey: accessKey,
        BucketName: bucket,
        BundleDirectory: bundle.destination,
        ManifestName: `${bundle.prefix}.manifest.xml`,
        ManifestPath: bundle.manifestPath,
        Region: regionOf(ctx.config),
        SecretKey: secretKey,
        Token: token,
      });
      const { bucket: bucketName, keyPrefix } = bundleLocation(bucket, bundle.prefix);
      // Recorded before the upload starts: the handler deletes whatever exists
      // under the prefix, so even a half-finished upload is never leaked.
      await ctx.intent({ kind: S3_BUNDLE_KIND, token: `${bucketName}/${keyPrefix}` });
      await ctx.created({
        kind: S3_BUNDLE_KIND,
        id: `s3://${bucketName}/${keyPrefix}*`,
        region: regionOf(ctx.config),
        data: { bucket: bucketName, keyPrefix },
      });
      ctx.ui.say("Uploading the bundle...");
      const status = await runRemote(ctx, command);
      if (status !== 0) {
        throw new Error(
          `Bundle upload failed (exit status ${status}). Please see the output above for more details.`,
        );
      }
      return { imageLocation: `${bucket}/${bundle.prefix}.manifest.xml` };
    },
  };
}
