/**
 * Launch templates (one version each): what Packer's and kiln's spot path
 * launches an instant fleet from. CreateLaunchTemplate honours ClientToken
 * (the same token with other parameters → IdempotentParameterMismatch).
 */
import type { Ec2Emulator } from "../emulator.ts";
import { Ec2Error } from "../errors.ts";
import { applyFilters } from "../filters.ts";
import type { LaunchTemplate } from "../model.ts";
import type { QueryParams } from "../query.ts";
import { requestDigest } from "./instances.ts";
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
export function templateFrom(emu: Ec2Emulator, p: QueryParams, region: string): LaunchTemplate {
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
    t.region === region && t.launchTemplateName === name && emu.visible(t.launchTemplateId)
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
  const clientToken = p.optional("ClientToken");
  const digest = requestDigest(p);
  for (const t of emu.launchTemplates.values()) {
    if (t.region !== ctx.region) continue;
    if (clientToken && t.clientToken === clientToken && !emu.faults.options.ignoreClientToken) {
      if (t.requestDigest !== digest) {
        throw new Ec2Error(
          "IdempotentParameterMismatch",
          "The client token you have provided is associated with a request with different parameters.",
        );
      }
      return { launchTemplate: renderTemplate(emu, t) };
    }
    if (t.launchTemplateName === name) {
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
    clientToken,
    requestDigest: digest,
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

/** DescribeLaunchTemplates by ids, names, `tag:` filters or all. */
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
  templates = applyFilters(
    templates,
    p.filters(),
    (t, name) => {
      switch (name) {
        case "launch-template-name":
          return [t.launchTemplateName];
        case "create-time":
          return [t.createTime.toISOString()];
      }
    },
    (t) => emu.tagsOf(t.launchTemplateId),
  );
  return { launchTemplates: templates.map((t) => renderTemplate(emu, t)) };
};
