/**
 * Instant EC2 Fleets: how Packer 1.6.6 launches spot instances
 * (CreateLaunchTemplate → CreateFleet type=instant → DeleteLaunchTemplate),
 * and kiln after it. CreateFleet honours ClientToken, picks the cheapest
 * override on the emulated spot market (spot_prices.ts), and reports what it
 * could not launch in `errorSet` (e.g. `SpotMaxPriceTooLow`), as EC2 does.
 */
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import type { Fleet, FleetError, SpotRequest } from "../model.ts";
import { terminateInstance } from "../lifecycle.ts";
import { QueryParams } from "../query.ts";
import { onDemandPriceOf, spotPriceOf } from "../spot_prices.ts";
import { launch, type LaunchSpec, launchSpecFrom, requestDigest } from "./instances.ts";
import { templateFrom } from "./launch_templates.ts";
import { KINDS, select } from "./lookup.ts";
import type { ActionHandler, Members } from "./types.ts";

/** An already-fulfilled one-time spot request for a fleet's spot instance. */
function fleetSpotRequest(
  emu: Ec2Emulator,
  ctx: RequestContext,
  spec: LaunchSpec,
  price: string,
): SpotRequest {
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

/** Which template and override an instance or an error of the fleet is about. */
function templateAndOverrides(fleet: Fleet, instanceType: string | undefined): Members {
  return {
    launchTemplateSpecification: { launchTemplateId: fleet.launchTemplateId, version: "1" },
    overrides: { instanceType },
  };
}

function renderFleetInstances(fleet: Fleet): Members[] {
  if (fleet.instanceIds.length === 0) return [];
  return [{
    launchTemplateAndOverrides: templateAndOverrides(fleet, fleet.instanceType),
    lifecycle: fleet.lifecycle,
    instanceIds: fleet.instanceIds,
    instanceType: fleet.instanceType,
  }];
}

function renderFleetErrors(fleet: Fleet): Members[] {
  return fleet.errors.map((e) => ({
    launchTemplateAndOverrides: templateAndOverrides(fleet, e.instanceType),
    lifecycle: fleet.lifecycle,
    errorCode: e.errorCode,
    errorMessage: e.errorMessage,
  }));
}

/** The overrides a fleet may launch, cheapest first, each with the price cap that applies. */
function candidates(
  spec: LaunchSpec,
  overrides: QueryParams[],
  maxPrice: string | undefined,
): { instanceType: string; subnetId?: string; availabilityZone?: string; cap: number }[] {
  const list = overrides.length > 0
    ? overrides.map((o) => ({
      instanceType: o.optional("InstanceType") ?? spec.instanceType,
      subnetId: o.optional("SubnetId") ?? spec.subnetId,
      availabilityZone: o.optional("AvailabilityZone") ?? spec.availabilityZone,
      max: o.optional("MaxPrice") ?? maxPrice,
    }))
    : [{ ...spec, max: maxPrice }];
  return list.map(({ max, ...c }) => ({
    ...c,
    cap: max !== undefined ? Number(max) : onDemandPriceOf(c.instanceType),
  })).sort((a, b) => spotPriceOf(a.instanceType) - spotPriceOf(b.instanceType));
}

/** Launches one instance of the fleet from the cheapest override the price allows. */
function fulfil(
  emu: Ec2Emulator,
  ctx: RequestContext,
  fleet: Fleet,
  spec: LaunchSpec,
  options: ReturnType<typeof candidates>,
  tags: [string, string][],
): void {
  const affordable = options.find((o) =>
    !fleet.lifecycle.startsWith("spot") ||
    spotPriceOf(o.instanceType) <= o.cap
  );
  if (!affordable) {
    fleet.errors.push(...options.map((o): FleetError => ({
      instanceType: o.instanceType,
      errorCode: "SpotMaxPriceTooLow",
      errorMessage: `Your Spot request price of ${o.cap} is lower than the minimum required ` +
        `Spot request fulfillment price of ${spotPriceOf(o.instanceType)}.`,
    })));
    return;
  }
  const launchSpec = { ...spec, ...affordable };
  const request = fleet.lifecycle === "spot"
    ? fleetSpotRequest(emu, ctx, launchSpec, String(affordable.cap))
    : undefined;
  const reservation = launch(emu, ctx, launchSpec, 1, {
    spotRequestId: request?.spotInstanceRequestId,
    tags,
  });
  if (request) request.instanceId = reservation.instanceIds[0];
  fleet.instanceType = affordable.instanceType;
  fleet.instanceIds.push(...reservation.instanceIds);
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
  const clientToken = p.optional("ClientToken");
  const digest = requestDigest(p);
  if (clientToken && !emu.faults.options.ignoreClientToken) {
    const existing = [...emu.fleets.values()].find((f) =>
      f.region === ctx.region && f.clientToken === clientToken
    );
    if (existing && existing.requestDigest !== digest) {
      throw new Ec2Error(
        "IdempotentParameterMismatch",
        "The client token you have provided is associated with a request with different parameters.",
      );
    }
    if (existing) return renderCreated(existing);
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
    createTime: new Date(),
    launchTemplateId: template.launchTemplateId,
    targetCapacity: capacity,
    lifecycle: spot ? "spot" : "on-demand",
    errors: [],
    clientToken,
    requestDigest: digest,
  };
  const options = candidates(
    spec,
    config.structs("Overrides"),
    data.optional("InstanceMarketOptions.SpotOptions.MaxPrice"),
  );
  for (let n = 0; n < capacity && fleet.errors.length === 0; n++) {
    fulfil(emu, ctx, fleet, spec, options, tags);
  }
  emu.fleets.set(fleet.fleetId, fleet);
  emu.applyTags(
    fleet.fleetId,
    p.tagSpecifications().filter((s) => s.resourceType === "fleet").flatMap((s) => s.tags),
  );
  emu.created(fleet.fleetId);
  return renderCreated(fleet);
};

function renderCreated(fleet: Fleet): Members {
  return {
    fleetId: fleet.fleetId,
    errorSet: renderFleetErrors(fleet),
    fleetInstanceSet: renderFleetInstances(fleet),
  };
}

/** DescribeFleets by id, `fleet-state` / `type` / tag filters, or all. */
export const describeFleets: ActionHandler = (emu, p, ctx) => {
  const fleets = applyFilters(
    select(emu, KINDS.fleet, emu.fleets, p.list("FleetId"), ctx.region),
    p.filters(),
    (f, name) => {
      switch (name) {
        case "fleet-state":
          return [f.state];
        case "type":
          return [f.type];
      }
    },
    (f) => emu.tagsOf(f.fleetId),
  );
  return {
    fleetSet: fleets.map((f) => ({
      fleetId: f.fleetId,
      fleetState: f.state,
      type: f.type,
      createTime: f.createTime,
      clientToken: f.clientToken,
      targetCapacitySpecification: {
        totalTargetCapacity: f.targetCapacity,
        defaultTargetCapacityType: f.lifecycle,
      },
      fulfilledCapacity: f.instanceIds.length,
      fleetInstanceSet: renderFleetInstances(f),
      errorSet: renderFleetErrors(f),
      tagSet: emu.tagSet(f.fleetId),
    })),
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
