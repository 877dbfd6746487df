/** Runs bundle_vol_command on the instance: ec2-bundle-vol images the root volume. */
import type { Step } from "../../runtime/types.ts";
import { runRemote } from "./remote.ts";
import type { SourceAmi } from "./source_ami.ts";
import type { X509Output } from "./upload_x509.ts";

/** The default command (Packer's amazon-instance source). */
export const DEFAULT_BUNDLE_VOL_COMMAND =
  "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} " +
  "-r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} " +
  "--batch --no-filter";

/** Where the bundle was written. */
export interface BundleOutput {
  destination: string;
  prefix: string;
  manifestPath: string;
}

/** The "bundle volume" step. */
export function bundleVolumeStep(): Step<BundleOutput> {
  return {
    id: "aws.bundle_volume",
    async run(ctx) {
      const x509 = ctx.state["aws.upload_x509"] as X509Output;
      const source = ctx.state["aws.source_ami"] as SourceAmi;
      const destination = String(ctx.config.bundle_destination || "/tmp");
      const prefix = ctx.render(String(ctx.config.bundle_prefix || "image-{{timestamp}}"));
      const command = ctx.render(
        String(ctx.config.bundle_vol_command || DEFAULT_BUNDLE_VOL_COMMAND),
        {
          AccountId: String(ctx.config.account_id ?? "").replaceAll("-", ""),
          Architecture: source.architecture,
          CertPath: x509.certPath,
          Destination: destination,
          KeyPath: x509.keyPath,
          Prefix: prefix,
          PrivatePath: String(ctx.config.x509_upload_path || "/tmp"),
        },
      );
      ctx.ui.say("Bundling the volume...");
      const status = await runRemote(ctx, command);
      if (status !== 0) {
        throw new Error(
          `Volume bundling failed (exit status ${status}). Please see the output above for more ` +
            "details on what went wrong. One common cause for this error is ec2-bundle-vol not " +
            "being available on the target instance.",
        );
      }
      return { destination, prefix, manifestPath: `${destination}/${prefix}.manifest.xml` };
    },
  };
}
