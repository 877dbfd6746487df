/**
 * Deletes a sweep's orphans in dependency order: spot requests are cancelled
 * before their instances, instances are terminated and waited for before
 * their volumes, security groups and key pairs, AMIs are deregistered before
 * their snapshots. "Not found" is done. The builders' own resource handlers
 * do the work where one exists, so a sweep deletes exactly as a cleanup does.
 */
import type { CleanupContext, ResourceHandler } from "../../runtime/types.ts";
import { ec2For, errorCode, isNotFound, loadEc2Sdk } from "./client.ts";
import { errorMessage } from "../../runtime/errors.ts";
import { instanceHandler } from "./run_instance.ts";
import { keyPairHandler } from "./key_pair.ts";
import { securityGroupHandler } from "./security_group.ts";
import { launchTemplateHandler, spotRequestHandler } from "./run_spot_instance.ts";
import { deleteAmi } from "./register_ami.ts";
import type { SweptKind, SweptResource } from "./sweep_inventory.ts";

/** What happened to one orphan. */
export type SweepOutcome =
  | { resource: SweptResource; deleted: true }
  | { resource: SweptResource; error: string };

const volumeGone = new Set(["InvalidVolume.NotFound"]);

const handlers: Record<SweptKind, ResourceHandler> = {
  "spot-request": spotRequestHandler,
  instance: instanceHandler,
  "launch-template": launchTemplateHandler,
  "security-group": securityGroupHandler,
  "key-pair": keyPairHandler,
  volume: {
    async delete(ctx, resource) {
      const sdk = await loadEc2Sdk();
      const ec2 = await ec2For(ctx, resource.region);
      ctx.ui.say(`Deleting volume ${resource.id}...`);
      try {
        await ec2.send(new sdk.DeleteVolumeCommand({ VolumeId: resource.id }));
      } catch (err) {
        // Its instance was terminated just before: delete-on-termination took it.
        if (!volumeGone.has(errorCode(err))) throw err;
      }
    },
  },
  image: {
    async delete(ctx, resource) {
      ctx.ui.say(`Deregistering AMI ${resource.id} and deleting its snapshots...`);
      await deleteAmi(ctx, String(resource.region), resource.id);
    },
  },
  snapshot: {
    async delete(ctx, resource) {
      const sdk = await loadEc2Sdk();
      const ec2 = await ec2For(ctx, resource.region);
      ctx.ui.say(`Deleting snapshot ${resource.id}...`);
      await ec2.send(new sdk.DeleteSnapshotCommand({ SnapshotId: resource.id }));
    },
  },
};

/**
 * Deletes `orphans` (already in dependency order) one by one. A failure is
 * reported and the sweep goes on: what a failed instance still holds (its
 * security group, an attached volume) then fails on its own, with EC2's
 * reason, and stays for the next sweep.
 */
export async function deleteOrphans(
  orphans: SweptResource[],
  ctx: Omit<CleanupContext, "runId" | "buildName">,
  report: {
    start?(resource: SweptResource): void;
    done?(outcome: SweepOutcome): void;
  } = {},
): Promise<SweepOutcome[]> {
  const outcomes: SweepOutcome[] = [];
  let instancesAsked = false;
  for (const resource of orphans) {
    if (resource.kind === "instance" && !instancesAsked) {
      instancesAsked = true;
      await terminateAll(ctx, orphans.filter((r) => r.kind === "instance"));
    }
    report.start?.(resource);
    let outcome: SweepOutcome;
    try {
      await handlers[resource.kind].delete(
        { ...ctx, runId: resource.runTag, buildName: resource.build ?? "" },
        { kind: resource.kind, id: resource.id, region: resource.region },
      );
      outcome = { resource, deleted: true };
    } catch (err) {
      outcome = isNotFound(err)
        ? { resource, deleted: true }
        : { resource, error: errorMessage(err) };
    }
    outcomes.push(outcome);
    report.done?.(outcome);
  }
  return outcomes;
}

/**
 * Asks EC2 to terminate every orphan instance of the region at once, so they
 * shut down side by side while the handler waits for each in turn (it asks
 * again, which EC2 answers as done). Best effort: one id EC2 no longer knows
 * fails the whole call, and then the handlers terminate them one by one.
 */
async function terminateAll(
  ctx: Omit<CleanupContext, "runId" | "buildName">,
  instances: SweptResource[],
): Promise<void> {
  if (instances.length < 2) return;
  const sdk = await loadEc2Sdk();
  const ec2 = await ec2For(ctx, instances[0].region);
  await ec2.send(new sdk.TerminateInstancesCommand({ InstanceIds: instances.map((i) => i.id) }))
    .catch(() => {});
}
