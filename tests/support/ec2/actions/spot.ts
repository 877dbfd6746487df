/** RequestSpotInstances, DescribeSpotInstanceRequests, CancelSpotInstanceRequests (one-time requests). */
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import type { SpotRequest } from "../model.ts";
import { renderSpotRequest } from "../render.ts";
import { launch, launchSpecFrom } from "./instances.ts";
import { KINDS, select } from "./lookup.ts";
import type { ActionHandler } from "./types.ts";

/** RequestSpotInstances: `open`, then `active` with a launched instance after a short delay. */
export const requestSpotInstances: ActionHandler = (emu, p, ctx) => {
  const count = p.int("InstanceCount") ?? 1;
  const specParams = p.child("LaunchSpecification");
  const spec = launchSpecFrom(specParams);
  const type = p.get("Type") ?? "one-time";
  if (type !== "one-time" && type !== "persistent") {
    throw new Ec2Error("InvalidParameterValue", `Invalid spot request type: ${type}`);
  }
  const tags = p.tagSpecifications().filter((s) => s.resourceType === "spot-instances-request")
    .flatMap((s) => s.tags);
  const requests: SpotRequest[] = [];
  for (let n = 0; n < count; n++) {
    const request: SpotRequest = {
      spotInstanceRequestId: emu.newId("sir"),
      region: ctx.region,
      spotPrice: p.get("SpotPrice") ?? "0.050000",
      type,
      state: "open",
      statusCode: "pending-evaluation",
      statusMessage: "Your Spot request has been submitted for review, and is pending evaluation.",
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
    emu.applyTags(request.spotInstanceRequestId, tags);
    emu.created(request.spotInstanceRequestId);
    requests.push(request);
    emu.after(emu.timing.spotFulfilMs, () => {
      if (request.state !== "open") return;
      try {
        const reservation = launch(emu, ctx, spec, 1, {
          spotRequestId: request.spotInstanceRequestId,
        });
        request.instanceId = reservation.instanceIds[0];
        request.state = "active";
        request.statusCode = "fulfilled";
        request.statusMessage = "Your spot request is fulfilled.";
      } catch (err) {
        request.state = "failed";
        request.statusCode = "bad-parameters";
        request.statusMessage = err instanceof Error ? err.message : String(err);
      }
      request.updateTime = new Date();
    });
  }
  return { spotInstanceRequestSet: requests.map((r) => renderSpotRequest(emu, r)) };
};

/** DescribeSpotInstanceRequests by id and filters. */
export const describeSpotInstanceRequests: ActionHandler = (emu, p, ctx) => {
  const requests = applyFilters(
    select(emu, KINDS.spotRequest, emu.spotRequests, p.list("SpotInstanceRequestId"), ctx.region),
    p.filters(),
    (r, name) => {
      switch (name) {
        case "spot-instance-request-id":
          return [r.spotInstanceRequestId];
        case "state":
          return [r.state];
        case "status-code":
          return [r.statusCode];
        case "instance-id":
          return [r.instanceId];
        case "type":
          return [r.type];
        case "launch.image-id":
          return [r.launchSpecification.imageId];
      }
    },
    (r) => emu.tagsOf(r.spotInstanceRequestId),
  );
  return { spotInstanceRequestSet: requests.map((r) => renderSpotRequest(emu, r)) };
};

/** CancelSpotInstanceRequests: the request is cancelled; a launched instance keeps running, as on EC2. */
export const cancelSpotInstanceRequests: ActionHandler = (emu, p, ctx) => {
  const requests = select(
    emu,
    KINDS.spotRequest,
    emu.spotRequests,
    p.list("SpotInstanceRequestId"),
    ctx.region,
  );
  for (const r of requests) {
    if (r.state === "open" || r.state === "active") {
      r.state = "cancelled";
      r.statusCode = r.instanceId
        ? "request-canceled-and-instance-running"
        : "canceled-before-fulfillment";
      r.statusMessage = "Your spot request is canceled.";
      r.updateTime = new Date();
    }
  }
  return {
    spotInstanceRequestSet: requests.map((r) => ({
      spotInstanceRequestId: r.spotInstanceRequestId,
      state: r.state,
    })),
  };
};
