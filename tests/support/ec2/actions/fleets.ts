/**
 * Launch templates and instant EC2 Fleets: how Packer 1.6.6 launches spot
 * instances (CreateLaunchTemplate → CreateFleet type=instant →
 * DeleteLaunchTemplate).
 */
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";
import type { Fleet, LaunchTemplate, SpotRequest } from "../model.ts";
import { terminateInstance } from "../lifecycle.ts";
import { QueryParams } from "../query.ts";
import { launch, type LaunchSpec, launchSpecFrom } from "./instances.ts";
import { KINDS, select } from "./lookup.ts";
import type { ActionHandler, Members } from "./types.ts";

function renderTemplate(emu: Ec2Emulator, t: LaunchTemplate): Members {
  return {
    launchTemplateId: t.launchTemplateId,
    launchTemplateName: t.launchTemplateName,
    createTime: t.createTime,
    createdBy: `arn:aws:iam::${emu.accountId}:user/kiln-test`,
    defaultVersionNumber: 1,
    latestVersionNumber: 1,
    tagSet: emu.tagSet(t.launchTemplateId),
  };
}

/** A template by `LaunchTemplateId` or `LaunchTemplateName` below `p`. */
function templateFrom(emu: Ec2Emulator, p: QueryParams, region: string): LaunchTemplate {
  const id = p.optional("LaunchTemplateId");
  if (id) return select(emu, KINDS.launchTemplate, emu.launchTemplates, [id], region)[0];
  const name = p.optional("LaunchTemplateName");
  if (!name) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter LaunchTemplateName or LaunchTemplateId",
    );
  }
  const found = [...emu.launchTemplates.values()].find((t) =>
    t.region === region && t.launchTemplateName === name
  );
  if (!found) {
    throw new Ec2Error(
      "InvalidLaunchTemplateName.NotFoundException",
      `The specified launch template, with template name ${name}, does not exist.`,
    );
  }
  return found;
}

/** CreateLaunchTemplate: stores `LaunchTemplateData.*` as one version. */
export const createLaunchTemplate: ActionHandler = (emu, p, ctx) => {
  const name = p.required("LaunchTemplateName");
  if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(name)) {
    throw new Ec2Error(
      "InvalidLaunchTemplateName.MalformedException",
      `Launch template name '${name}' is not valid`,
    );
  }
  for (const t of emu.launchTemplates.values()) {
    if (t.region === ctx.region && t.launchTemplateName === name) {
      throw new Ec2Error(
        "InvalidLaunchTemplateName.AlreadyExistsException",
        `Launch template name already in use.`,
      );
    }
  }
  if (!p.has("LaunchTemplateData")) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter LaunchTemplateData",
    );
  }
  const template: LaunchTemplate = {
    launchTemplateId: emu.newId("lt"),
    launchTemplateName: name,
    region: ctx.region,
    createTime: new Date(),
    data: p.entries().filter(([k]) => k.startsWith("LaunchTemplateData.")),
  };
  emu.launchTemplates.set(template.launchTemplateId, template);
  emu.applyTags(
    template.launchTemplateId,
    p.tagSpecifications().filter((s) => s.resourceType === "launch-template").flatMap((s) =>
      s.tags
    ),
  );
  emu.created(template.launchTemplateId);
  return { launchTemplate: renderTemplate(emu, template) };
};

/** DeleteLaunchTemplate by id or name. */
export const deleteLaunchTemplate: ActionHandler = (emu, p, ctx) => {
  const template = templateFrom(emu, p, ctx.region);
  emu.launchTemplates.delete(template.launchTemplateId);
  emu.tags.delete(template.launchTemplateId);
  return { launchTemplate: renderTemplate(emu, template) };
};

/** DescribeLaunchTemplates by ids, names or all. */
export const describeLaunchTemplates: ActionHandler = (emu, p, ctx) => {
  let templates = select(
    emu,
    KINDS.launchTemplate,
    emu.launchTemplates,
    p.list("LaunchTemplateId"),
    ctx.region,
  );
  const names = p.list("LaunchTemplateName");
  if (names.length > 0) {
    const missing = names.filter((n) => !templates.some((t) => t.launchTemplateName === n));
    if (missing.length > 0) {
      throw new Ec2Error(
        "InvalidLaunchTemplateName.NotFoundException",
        `At least one of the launch templates specified in the request does not exist.`,
      );
    }
    templates = templates.filter((t) => names.includes(t.launchTemplateName));
  }
  return { launchTemplates: templates.map((t) => renderTemplate(emu, t)) };
};

/** An already-fulfilled one-time spot request for a fleet's spot instance. */
function fleetSpotRequest(emu: Ec2Emulator, ctx: RequestContext, spec: LaunchSpec, price: string) {
  const request: SpotRequest = {
    spotInstanceRequestId: emu.newId("sir"),
    region: ctx.region,
    spotPrice: price,
    type: "one-time",
    state: "active",
    statusCode: "fulfilled",
    statusMessage: "Your spot request is fulfilled.",
    updateTime: new Date(),
    createTime: new Date(),
    launchSpecification: {
      imageId: spec.imageId,
      instanceType: spec.instanceType,
      keyName: spec.keyName,
      subnetId: spec.subnetId,
      groupIds: spec.groupIds,
      availabilityZone: spec.availabilityZone,
    },
  };
  emu.spotRequests.set(request.spotInstanceRequestId, request);
  return request;
}

/** CreateFleet (type instant): launches the target capacity from the first launch template config. */
export const createFleet: ActionHandler = (emu, p, ctx) => {
  const type = p.optional("Type") ?? "maintain";
  if (type !== "instant") {
    throw new Ec2Error(
      "UnsupportedOperation",
      `The emulator launches only instant fleets (Type=instant), not '${type}'`,
    );
  }
  const config = p.structs("LaunchTemplateConfigs")[0];
  if (!config) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter LaunchTemplateConfigs",
    );
  }
  const template = templateFrom(emu, config.child("LaunchTemplateSpecification"), ctx.region);
  const data = new QueryParams(new Map(template.data)).child("LaunchTemplateData");
  const spec = launchSpecFrom(data);
  const override = config.structs("Overrides")[0];
  if (override) {
    spec.instanceType = override.optional("InstanceType") ?? spec.instanceType;
    spec.subnetId = override.optional("SubnetId") ?? spec.subnetId;
    spec.availabilityZone = override.optional("AvailabilityZone") ?? spec.availabilityZone;
  }
  const capacity = p.int("TargetCapacitySpecification.TotalTargetCapacity");
  if (!capacity || capacity < 1) {
    throw new Ec2Error(
      "MissingParameter",
      "The request must contain the parameter TargetCapacitySpecification.TotalTargetCapacity",
    );
  }
  const spot = p.optional("TargetCapacitySpecification.DefaultTargetCapacityType") === "spot" ||
    data.optional("InstanceMarketOptions.MarketType") === "spot";
  const tags = [
    ...data.tagSpecifications(),
    ...p.tagSpecifications(),
  ].filter((s) => s.resourceType === "instance").flatMap((s) =>
    s.tags.map((t) => [t.key, t.value] as [string, string])
  );
  const fleet: Fleet = {
    fleetId: emu.newId("fleet"),
    region: ctx.region,
    type,
    instanceIds: [],
    state: "active",
  };
  const price = override?.optional("MaxPrice") ??
    data.optional("InstanceMarketOptions.SpotOptions.MaxPrice") ?? "0.050000";
  for (let n = 0; n < capacity; n++) {
    const request = spot ? fleetSpotRequest(emu, ctx, spec, price) : undefined;
    const reservation = launch(emu, ctx, spec, 1, {
      spotRequestId: request?.spotInstanceRequestId,
      tags,
    });
    if (request) request.instanceId = reservation.instanceIds[0];
    fleet.instanceIds.push(...reservation.instanceIds);
  }
  emu.fleets.set(fleet.fleetId, fleet);
  emu.applyTags(
    fleet.fleetId,
    p.tagSpecifications().filter((s) => s.resourceType === "fleet").flatMap((s) => s.tags),
  );
  return {
    fleetId: fleet.fleetId,
    errorSet: [],
    fleetInstanceSet: [{
      launchTemplateAndOverrides: {
        launchTemplateSpecification: {
          launchTemplateId: template.launchTemplateId,
          version: "1",
        },
        overrides: override
          ? {
            instanceType: override.optional("InstanceType"),
            subnetId: override.optional("SubnetId"),
            availabilityZone: override.optional("AvailabilityZone"),
          }
          : undefined,
      },
      lifecycle: spot ? "spot" : "on-demand",
      instanceIds: fleet.instanceIds,
      instanceType: spec.instanceType,
    }],
  };
};

/** DeleteFleets: marks fleets deleted; with TerminateInstances, terminates their instances. */
export const deleteFleets: ActionHandler = (emu, p, ctx) => {
  const fleets = select(emu, KINDS.fleet, emu.fleets, p.list("FleetId"), ctx.region);
  const terminate = p.bool("TerminateInstances") ?? false;
  for (const fleet of fleets) {
    fleet.state = "deleted";
    if (terminate) {
      for (const id of fleet.instanceIds) {
        const instance = emu.instances.get(id);
        if (instance) terminateInstance(emu, instance);
      }
    }
  }
  return {
    successfulFleetDeletionSet: fleets.map((f) => ({
      fleetId: f.fleetId,
      currentFleetState: "deleted",
      previousFleetState: "active",
    })),
    unsuccessfulFleetDeletionSet: [],
  };
};
