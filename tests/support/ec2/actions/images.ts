/**
 * DescribeImages, RegisterImage (instance-store: the manifest and its parts
 * must be in the S3 emulator), DeregisterImage, DescribeImageAttribute,
 * ModifyImageAttribute, CopyImage.
 */
import { createHash } from "node:crypto";
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import { Ec2Error, invalidParameter } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import type { BlockDeviceMapping, Image, LaunchPermission } from "../model.ts";
import type { QueryParams } from "../query.ts";
import { renderBlockDevice, renderImage } from "../render.ts";
import { copySnapshots } from "../volumes.ts";
import { KINDS, one, select } from "./lookup.ts";
import type { ActionHandler, Members } from "./types.ts";

function visibleTo(emu: Ec2Emulator, image: Image): boolean {
  return image.ownerId === emu.accountId ||
    image.launchPermissions.some((l) => l.group === "all" || l.userId === emu.accountId);
}

function ownerMatches(emu: Ec2Emulator, image: Image, owner: string): boolean {
  if (owner === "self") return image.ownerId === emu.accountId;
  if (/^\d{12}$/.test(owner)) return image.ownerId === owner;
  return image.ownerAlias === owner;
}

function isDeprecated(image: Image): boolean {
  return image.deprecationTime !== undefined && Date.parse(image.deprecationTime) <= Date.now();
}

/** DescribeImages: ImageId.N, Owner.N, ExecutableBy.N, IncludeDeprecated and filters. */
export const describeImages: ActionHandler = (emu, p, ctx) => {
  const ids = p.list("ImageId");
  let images = select(emu, KINDS.image, emu.images, ids, ctx.region);
  if (ids.length === 0) images = images.filter((i) => visibleTo(emu, i));
  // As EC2: a deprecated image is listed for its owner, by id, or with IncludeDeprecated.
  if (ids.length === 0 && !p.bool("IncludeDeprecated")) {
    images = images.filter((i) => !isDeprecated(i) || i.ownerId === emu.accountId);
  }
  const owners = p.list("Owner");
  if (owners.length > 0) images = images.filter((i) => owners.some((o) => ownerMatches(emu, i, o)));
  const executableBy = p.list("ExecutableBy");
  if (executableBy.length > 0) {
    images = images.filter((i) =>
      executableBy.some((who) =>
        who === "all"
          ? i.launchPermissions.some((l) => l.group === "all")
          : (who === "self" ? visibleTo(emu, i) : i.launchPermissions.some((l) => l.userId === who))
      )
    );
  }
  images = applyFilters(images, p.filters(), (i, name) => {
    switch (name) {
      case "image-id":
        return [i.imageId];
      case "name":
        return [i.name];
      case "description":
        return [i.description];
      case "owner-id":
        return [i.ownerId];
      case "owner-alias":
        return [i.ownerAlias];
      case "state":
        return [i.state];
      case "architecture":
        return [i.architecture];
      case "root-device-type":
        return [i.rootDeviceType];
      case "root-device-name":
        return [i.rootDeviceName];
      case "virtualization-type":
        return [i.virtualizationType];
      case "image-type":
        return [i.imageType];
      case "is-public":
        return [String(i.launchPermissions.some((l) => l.group === "all"))];
      case "hypervisor":
        return [i.hypervisor];
      case "manifest-location":
        return [i.imageLocation];
      case "ena-support":
        return [String(i.enaSupport ?? false)];
      case "kernel-id":
        return [i.kernelId];
      case "product-code":
        return i.productCodes;
      case "block-device-mapping.device-name":
        return i.blockDeviceMappings.map((b) => b.deviceName);
    }
  }, (i) => emu.tagsOf(i.imageId));
  return { imagesSet: images.map((i) => renderImage(emu, i)) };
};

/** `BlockDeviceMapping.N.*` of a request (RegisterImage, RunInstances, CreateImage). */
export function blockDevicesFrom(p: QueryParams): BlockDeviceMapping[] {
  return p.structs("BlockDeviceMapping").map((b) => ({
    deviceName: b.required("DeviceName"),
    virtualName: b.get("VirtualName"),
    noDevice: b.get("NoDevice") !== undefined ? true : undefined,
    ebs: b.has("Ebs")
      ? {
        snapshotId: b.get("Ebs.SnapshotId"),
        volumeSize: b.int("Ebs.VolumeSize"),
        volumeType: b.get("Ebs.VolumeType"),
        deleteOnTermination: b.bool("Ebs.DeleteOnTermination"),
        encrypted: b.bool("Ebs.Encrypted"),
        iops: b.int("Ebs.Iops"),
        throughput: b.int("Ebs.Throughput"),
        kmsKeyId: b.get("Ebs.KmsKeyId"),
      }
      : undefined,
  }));
}

const AMI_NAME = /^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/;

/** AMI name rules: format, and unique per owner and region (`InvalidAMIName.Duplicate`). */
export function checkName(emu: Ec2Emulator, region: string, name: string): void {
  if (!AMI_NAME.test(name)) {
    throw new Ec2Error(
      "InvalidAMIName.Malformed",
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
    );
  }
  for (const i of emu.images.values()) {
    if (i.region === region && i.ownerId === emu.accountId && i.name === name) {
      throw new Ec2Error(
        "InvalidAMIName.Duplicate",
        `AMI name ${name} is already in use by AMI ${i.imageId}`,
      );
    }
  }
}

const MANIFEST_ERROR =
  "The specified AMI has an unparsable manifest, or you may not have access to the location where the manifest file is stored";

/**
 * Reads `bucket/key.manifest.xml` from the S3 emulator and checks that every
 * part it lists is there with the SHA-1 the manifest records; returns the
 * manifest's architecture.
 */
function checkManifest(emu: Ec2Emulator, location: string): string | undefined {
  const path = location.replace(/^s3:\/\//, "");
  const slash = path.indexOf("/");
  if (slash <= 0 || !path.endsWith(".manifest.xml")) {
    throw new Ec2Error("InvalidManifest", `${MANIFEST_ERROR}: ${location}`);
  }
  const bucket = path.slice(0, slash);
  const key = path.slice(slash + 1);
  const manifest = emu.s3?.get(bucket, key);
  if (!manifest) throw new Ec2Error("InvalidManifest", `${MANIFEST_ERROR}: ${location}`);
  const text = new TextDecoder().decode(manifest.body);
  if (!/<manifest>[\s\S]*<\/manifest>/.test(text)) {
    throw new Ec2Error(
      "InvalidManifest",
      `${MANIFEST_ERROR}: ${location} is not a bundle manifest`,
    );
  }
  const dir = key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "";
  for (const part of text.matchAll(/<part index="\d+">([\s\S]*?)<\/part>/g)) {
    const filename = part[1].match(/<filename>([^<]+)<\/filename>/)?.[1];
    const digest = part[1].match(/<digest algorithm="SHA1">([0-9a-f]+)<\/digest>/)?.[1];
    const object = filename ? emu.s3?.get(bucket, dir + filename) : undefined;
    if (!object) {
      throw new Ec2Error("InvalidManifest", `${MANIFEST_ERROR}: part ${filename} is missing`);
    }
    if (digest && createHash("sha1").update(object.body).digest("hex") !== digest) {
      throw new Ec2Error("InvalidManifest", `${MANIFEST_ERROR}: part ${filename} is corrupt`);
    }
  }
  return text.match(/<architecture>([^<]+)<\/architecture>/)?.[1];
}

/** A new pending image, available after `imagePendingMs`. */
export function newImage(
  emu: Ec2Emulator,
  ctx: RequestContext,
  fields: Partial<Image> & Pick<Image, "name">,
): Image {
  const image: Image = {
    imageId: emu.newId("ami"),
    region: ctx.region,
    ownerId: emu.accountId,
    state: "pending",
    imageLocation: "",
    architecture: "x86_64",
    imageType: "machine",
    rootDeviceType: "instance-store",
    virtualizationType: "paravirtual",
    hypervisor: "xen",
    creationDate: new Date().toISOString(),
    blockDeviceMappings: [],
    productCodes: [],
    launchPermissions: [],
    seeded: false,
    ...fields,
  };
  emu.images.set(image.imageId, image);
  emu.created(image.imageId);
  emu.after(emu.timing.imagePendingMs, () => {
    if (image.state === "pending") image.state = "available";
  });
  return image;
}

/** RegisterImage: instance-store from `ImageLocation`, or EBS from a root snapshot mapping. */
export const registerImage: ActionHandler = (emu, p, ctx) => {
  const name = p.required("Name");
  checkName(emu, ctx.region, name);
  const location = p.get("ImageLocation");
  const blockDevices = blockDevicesFrom(p);
  let manifestArchitecture: string | undefined;
  if (location) manifestArchitecture = checkManifest(emu, location);
  else if (!p.get("RootDeviceName") || !blockDevices.some((b) => b.ebs?.snapshotId)) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "Either ImageLocation, or RootDeviceName with a snapshot block device mapping, must be given",
    );
  }
  const virtualizationType = p.get("VirtualizationType") ?? "paravirtual";
  if (virtualizationType !== "paravirtual" && virtualizationType !== "hvm") {
    throw invalidParameter(
      "VirtualizationType",
      virtualizationType,
      "Valid values: paravirtual, hvm",
    );
  }
  const image = newImage(emu, ctx, {
    name,
    description: p.get("Description"),
    imageLocation: location ?? `${emu.accountId}/${name}`,
    architecture: p.get("Architecture") ?? manifestArchitecture ?? "i386",
    rootDeviceType: location ? "instance-store" : "ebs",
    rootDeviceName: p.get("RootDeviceName"),
    virtualizationType,
    blockDeviceMappings: blockDevices,
    kernelId: p.get("KernelId"),
    ramdiskId: p.get("RamdiskId"),
    enaSupport: p.bool("EnaSupport"),
    sriovNetSupport: p.get("SriovNetSupport"),
    bootMode: p.get("BootMode"),
    tpmSupport: p.get("TpmSupport"),
    imdsSupport: p.get("ImdsSupport"),
    productCodes: p.list("BillingProduct"),
  });
  emu.applyTags(
    image.imageId,
    p.tagSpecifications().filter((s) => s.resourceType === "image").flatMap((s) => s.tags),
  );
  return { imageId: image.imageId };
};

function ownImage(emu: Ec2Emulator, p: QueryParams, ctx: RequestContext): Image {
  const image = one(emu, KINDS.image, emu.images, p.required("ImageId"), ctx.region);
  if (image.ownerId !== emu.accountId) {
    throw new Ec2Error("AuthFailure", `Not authorized for image:${image.imageId}`);
  }
  return image;
}

/** DeregisterImage: removes an image the caller owns. */
export const deregisterImage: ActionHandler = (emu, p, ctx) => {
  const image = ownImage(emu, p, ctx);
  emu.images.delete(image.imageId);
  emu.tags.delete(image.imageId);
  return { return: true };
};

/** DescribeImageAttribute: one attribute of an image. */
export const describeImageAttribute: ActionHandler = (emu, p, ctx) => {
  const image = one(emu, KINDS.image, emu.images, p.required("ImageId"), ctx.region);
  const attribute = p.required("Attribute");
  const members: Members = { imageId: image.imageId };
  const value = (v: string | undefined) => (v === undefined ? {} : { value: v });
  switch (attribute) {
    case "description":
      members.description = value(image.description);
      break;
    case "launchPermission":
      if (image.ownerId !== emu.accountId) {
        throw new Ec2Error("AuthFailure", `Not authorized for image:${image.imageId}`);
      }
      members.launchPermission = image.launchPermissions as Members[];
      break;
    case "productCodes":
      members.productCodes = image.productCodes.map((c) => ({
        productCode: c,
        type: "marketplace",
      }));
      break;
    case "blockDeviceMapping":
      members.blockDeviceMapping = image.blockDeviceMappings.map(renderBlockDevice);
      break;
    case "kernel":
      members.kernel = value(image.kernelId);
      break;
    case "ramdisk":
      members.ramdisk = value(image.ramdiskId);
      break;
    case "sriovNetSupport":
      members.sriovNetSupport = value(image.sriovNetSupport);
      break;
    case "bootMode":
      members.bootMode = value(image.bootMode);
      break;
    case "tpmSupport":
      members.tpmSupport = value(image.tpmSupport);
      break;
    case "imdsSupport":
      members.imdsSupport = value(image.imdsSupport);
      break;
    default:
      throw invalidParameter("Attribute", attribute, "Unknown image attribute");
  }
  return members;
};

function permissionsFrom(list: QueryParams[]): LaunchPermission[] {
  return list.map((l) => ({
    userId: l.get("UserId"),
    group: l.get("Group"),
    organizationArn: l.get("OrganizationArn"),
    organizationalUnitArn: l.get("OrganizationalUnitArn"),
  }));
}

function samePermission(a: LaunchPermission, b: LaunchPermission): boolean {
  return a.userId === b.userId && a.group === b.group && a.organizationArn === b.organizationArn &&
    a.organizationalUnitArn === b.organizationalUnitArn;
}

/** ModifyImageAttribute: launch permissions (both request forms), description, product codes, IMDS. */
export const modifyImageAttribute: ActionHandler = (emu, p, ctx) => {
  const image = ownImage(emu, p, ctx);
  let add = permissionsFrom(p.structs("LaunchPermission.Add"));
  let remove = permissionsFrom(p.structs("LaunchPermission.Remove"));
  const legacy: LaunchPermission[] = [
    ...p.list("UserId").map((userId) => ({ userId })),
    ...p.list("UserGroup").map((group) => ({ group })),
    ...p.list("OrganizationArn").map((organizationArn) => ({ organizationArn })),
    ...p.list("OrganizationalUnitArn").map((organizationalUnitArn) => ({ organizationalUnitArn })),
  ];
  if (legacy.length > 0) {
    const operation = p.get("OperationType");
    if (operation !== "add" && operation !== "remove") {
      throw invalidParameter("OperationType", String(operation), "Valid values: add, remove");
    }
    if (operation === "add") add = [...add, ...legacy];
    else remove = [...remove, ...legacy];
  }
  for (const perm of add) {
    if (perm.group !== undefined && perm.group !== "all") {
      throw invalidParameter("UserGroup", perm.group, "The only valid group is 'all'");
    }
    if (perm.userId !== undefined && !/^\d{12}$/.test(perm.userId)) {
      throw new Ec2Error(
        "InvalidAMIAttributeItemValue",
        `Invalid attribute item value "${perm.userId}" for userId item type.`,
      );
    }
    if (!image.launchPermissions.some((l) => samePermission(l, perm))) {
      image.launchPermissions.push(perm);
    }
  }
  image.launchPermissions = image.launchPermissions.filter((l) =>
    !remove.some((r) => samePermission(l, r))
  );
  const description = p.get("Description.Value") ??
    (p.get("Attribute") === "description" ? p.get("Value") : undefined);
  if (description !== undefined) image.description = description;
  for (const code of p.list("ProductCode")) {
    if (!image.productCodes.includes(code)) image.productCodes.push(code);
  }
  const imds = p.get("ImdsSupport.Value");
  if (imds !== undefined) image.imdsSupport = imds;
  return { return: true };
};

/** CopyImage: a new (pending) image in the request's region from one in `SourceRegion`. */
export const copyImage: ActionHandler = (emu, p, ctx) => {
  const sourceRegion = p.required("SourceRegion");
  emu.checkRegion(sourceRegion);
  const source = one(emu, KINDS.image, emu.images, p.required("SourceImageId"), sourceRegion);
  if (!visibleTo(emu, source)) {
    throw new Ec2Error("InvalidAMIID.NotFound", KINDS.image.notFound([source.imageId]));
  }
  const clientToken = p.get("ClientToken");
  if (clientToken && !emu.faults.options.ignoreClientToken) {
    const done = [...emu.images.values()].find((i) =>
      i.region === ctx.region && i.sourceImageId === source.imageId &&
      i.copyClientToken === clientToken
    );
    if (done) return { imageId: done.imageId };
  }
  const name = p.required("Name");
  checkName(emu, ctx.region, name);
  const encrypted = p.bool("Encrypted");
  const kmsKeyId = p.get("KmsKeyId");
  if (kmsKeyId && !encrypted) {
    throw new Ec2Error(
      "InvalidParameterDependency",
      "The parameter KmsKeyId requires the parameter Encrypted to be set.",
    );
  }
  const image = newImage(emu, ctx, {
    name,
    description: p.get("Description") ?? source.description,
    imageLocation: source.imageLocation,
    architecture: source.architecture,
    rootDeviceType: source.rootDeviceType,
    rootDeviceName: source.rootDeviceName,
    virtualizationType: source.virtualizationType,
    blockDeviceMappings: structuredClone(source.blockDeviceMappings),
    kernelId: source.kernelId,
    ramdiskId: source.ramdiskId,
    enaSupport: source.enaSupport,
    sriovNetSupport: source.sriovNetSupport,
    sourceImageId: source.imageId,
    sourceImageRegion: sourceRegion,
    copyClientToken: clientToken,
  });
  copySnapshots(emu, ctx, source, image, { encrypted, kmsKeyId });
  if (p.bool("CopyImageTags")) {
    emu.applyTags(
      image.imageId,
      [...emu.tagsOf(source.imageId)].map(([key, value]) => ({ key, value })),
    );
  }
  emu.applyTags(
    image.imageId,
    p.tagSpecifications().filter((s) => s.resourceType === "image").flatMap((s) => s.tags),
  );
  return { imageId: image.imageId };
};
