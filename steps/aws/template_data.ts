/**
 * Build template data for options like `tags` and `ami_description`
 * ({{.SourceAMI}}, {{.BuildRegion}}, ...), as the reference lists them.
 */
import type { StepContext } from "../../runtime/types.ts";
import type { SourceAmi } from "./source_ami.ts";

/** The data a late-rendered AMI option sees. */
export function amiTemplateData(ctx: StepContext): Record<string, string> {
  const source = ctx.state["aws.source_ami"] as SourceAmi | undefined;
  return {
    BuildRegion: String(ctx.config.region ?? ""),
    SourceAMI: source?.imageId ?? "",
    SourceAMICreationDate: source?.creationDate ?? "",
    SourceAMIName: source?.name ?? "",
    SourceAMIOwner: source?.ownerId ?? "",
    SourceAMIOwnerName: source?.ownerId ?? "",
  };
}

/** Renders a map option (tags, run_tags) with the build template data. */
export function renderTags(
  ctx: StepContext,
  tags: unknown,
): { Key: string; Value: string }[] {
  const data = amiTemplateData(ctx);
  return Object.entries((tags as Record<string, string> | undefined) ?? {}).map((
    [key, value],
  ) => ({ Key: ctx.render(key, data), Value: ctx.render(String(value), data) }));
}
