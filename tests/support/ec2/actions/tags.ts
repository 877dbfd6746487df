/** CreateTags, DeleteTags, DescribeTags. */
import type { Ec2Emulator } from "../emulator.ts";
import { resourceTypeOf } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import { type IdKind, KINDS, one } from "./lookup.ts";
import type { ActionHandler } from "./types.ts";

const KIND_BY_TYPE: Record<
  string,
  [IdKind, (emu: Ec2Emulator) => Map<string, { region: string }>]
> = {
  instance: [KINDS.instance, (emu) => emu.instances],
  image: [KINDS.image, (emu) => emu.images],
  "security-group": [KINDS.securityGroup, (emu) => emu.securityGroups],
  "key-pair": [KINDS.keyPair, (emu) => emu.keyPairs],
  vpc: [KINDS.vpc, (emu) => emu.vpcs],
  subnet: [KINDS.subnet, (emu) => emu.subnets],
  "spot-instances-request": [KINDS.spotRequest, (emu) => emu.spotRequests],
  "launch-template": [KINDS.launchTemplate, (emu) => emu.launchTemplates],
  fleet: [KINDS.fleet, (emu) => emu.fleets],
  volume: [KINDS.volume, (emu) => emu.volumes],
  snapshot: [KINDS.snapshot, (emu) => emu.snapshots],
};

function checkResource(emu: Ec2Emulator, id: string, region: string): void {
  const type = resourceTypeOf(id);
  if (!type) throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
  const [kind, map] = KIND_BY_TYPE[type];
  one(emu, kind, map(emu), id, region);
}

/** CreateTags: every resource must exist (and be visible: right after creation it may not be). */
export const createTags: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("ResourceId");
  if (ids.length === 0) {
    throw new Ec2Error("MissingParameter", "The request must contain the parameter ResourceId");
  }
  const tags = p.tags("Tag");
  for (const t of tags) {
    if (t.key.startsWith("aws:")) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
  }
  for (const id of ids) checkResource(emu, id, ctx.region);
  for (const id of ids) emu.applyTags(id, tags);
  return { return: true };
};

/** DeleteTags: removes the keys (matching value, when one is given). */
export const deleteTags: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("ResourceId");
  for (const id of ids) checkResource(emu, id, ctx.region);
  const tags = p.structs("Tag").map((t) => ({ key: t.required("Key"), value: t.get("Value") }));
  for (const id of ids) {
    const map = emu.tagsOf(id);
    if (tags.length === 0) map.clear();
    for (const t of tags) {
      if (t.value === undefined || map.get(t.key) === t.value) map.delete(t.key);
    }
  }
  return { return: true };
};

/** DescribeTags with resource-id, resource-type, key and value filters. */
export const describeTags: ActionHandler = (emu, p, ctx) => {
  const rows: { resourceId: string; resourceType: string; key: string; value: string }[] = [];
  for (const [id, map] of emu.tags) {
    const type = resourceTypeOf(id);
    if (!type) continue;
    const resource = KIND_BY_TYPE[type][1](emu).get(id);
    if (!resource || resource.region !== ctx.region) continue;
    for (const [key, value] of map) rows.push({ resourceId: id, resourceType: type, key, value });
  }
  const filtered = applyFilters(rows, p.filters(), (r, name) => {
    switch (name) {
      case "resource-id":
        return [r.resourceId];
      case "resource-type":
        return [r.resourceType];
      case "key":
        return [r.key];
      case "value":
        return [r.value];
    }
  }, () => new Map());
  return { tagSet: filtered };
};
