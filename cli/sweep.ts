/**
 * `kiln sweep --region R [--delete]`: the orphan finder. Lists every EC2
 * resource carrying a `kiln:run-id` tag, grouped by run with the run's status
 * in the store, and with --delete deletes the orphans: resources of runs that
 * are finished or unknown to the store, never a succeeded run's AMIs.
 */
import { isHelpRequest, parseCommandArgs } from "./args.ts";
import { type CommandOutput, commandOutput } from "./machine_readable.ts";
import { formatCliError } from "../runtime/errors.ts";
import { storeRunBook } from "./sweep_runs.ts";
import { sweepRegion, type SweepReport } from "./sweep_report.ts";

const USAGE = `Usage: kiln sweep -region=REGION [options]

  Lists the EC2 resources in REGION that carry kiln's kiln:run-id tag
  (instances, spot requests, launch templates, volumes, security groups,
  key pairs, AMIs, snapshots), grouped by run, with each run's status in
  the run store (KILN_HOME): finished, running, interrupted or unknown.
  Orphans are the resources of finished and unknown runs. Never orphans:
  anything of a running or interrupted run (resume it or run kiln cleanup),
  a tag value that is not a run id, the AMIs a succeeded run produced and
  the snapshots any kept AMI uses. Without --delete nothing is changed and
  the exit status is 0 even when orphans exist.

Options:

  -region=REGION               Region to sweep (repeat for several).
  -delete                      Delete the orphans, in dependency order.
  -include-unrecorded-images   Also delete AMIs no sealed run log proves
                               are a finished run's leftovers (AMIs of
                               unknown runs, tagged copies). Never the
                               results of a succeeded run in the store.
  -profile=NAME                AWS shared-config profile.
  -endpoint=URL                EC2 endpoint (as the builders' custom_endpoint_ec2).
  -machine-readable            Produce machine-readable output.

  Credentials come from the environment or the profile, as for the amazon
  builders. Exit status: 0, or 1 when a region cannot be listed or (with
  -delete) an orphan could not be deleted.`;

/** Runs `kiln sweep`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  let out: CommandOutput = commandOutput(false);
  try {
    const parsed = parseCommandArgs(args, {
      region: { type: "string", multiple: true },
      delete: { type: "boolean" },
      "include-unrecorded-images": { type: "boolean" },
      profile: { type: "string" },
      endpoint: { type: "string" },
      "machine-readable": { type: "boolean" },
    });
    out = commandOutput(parsed.values["machine-readable"] === true);
    const regions = ((parsed.values.region ?? []) as string[]).flatMap((r) => r.split(","))
      .map((r) => r.trim()).filter((r) => r !== "");
    if (parsed.positionals.length > 0 || regions.length === 0) {
      console.error(USAGE);
      return 1;
    }
    const endpoint = parsed.values.endpoint as string | undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
      throw new Error(`-endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
    }
    const book = storeRunBook();
    let failed = false;
    for (const region of [...new Set(regions)]) {
      const report: SweepReport = await sweepRegion(region, book, out, {
        delete: parsed.values.delete === true,
        includeUnrecordedImages: parsed.values["include-unrecorded-images"] === true,
        access: {
          region,
          profile: parsed.values.profile as string | undefined,
          custom_endpoint_ec2: endpoint,
        },
      });
      failed ||= !report.ok;
    }
    return failed ? 1 : 0;
  } catch (err) {
    out.error(formatCliError("sweep", err));
    return 1;
  }
}
