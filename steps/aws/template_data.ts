/**
 * Build template data, as the reference lists it: `{{.SourceAMI}}`,
 * `{{.BuildRegion}}`, ... for late-rendered options (`ami_description`,
 * `tags`, `run_tags`), and the same facts as `build` data for provisioners
 * and post-processors (`{{build `SourceAMI`}}`). Everything is derived from
 * the source AMI step's logged output, so a resumed run sees the same data.
 */
import type { StepContext } from "../../runtime/types.ts";
import type { SourceAmi } from "./source_ami.ts";
import { regionOf } from "./region.ts";

/** The data a late-rendered AMI option sees. */
export interface AmiTemplateData {
  BuildRegion: string;
  SourceAMI: string;
  SourceAMICreationDate: string;
  SourceAMIName: string;
  SourceAMIOwner: string;
  /**
   * The owner's alias (ImageOwnerAlias, e.g. "amazon"); empty when the owner
   * has none, as in Packer (which reads the alias and nothing else).
   */
  SourceAMIOwnerName: string;
  /** The source AMI's tags: `{{.SourceAMITags.Name}}`. */
  SourceAMITags: Record<string, string>;
}

/** The build template data of this build (from the source AMI step's output). */
export function amiTemplateData(ctx: Pick<StepContext, "config" | "state">): AmiTemplateData {
  const source = ctx.state["aws.source_ami"] as SourceAmi | undefined;
  return {
    BuildRegion: regionOf(ctx.config),
    SourceAMI: source?.imageId ?? "",
    SourceAMICreationDate: source?.creationDate ?? "",
    SourceAMIName: source?.name ?? "",
    SourceAMIOwner: source?.ownerId ?? "",
    SourceAMIOwnerName: source?.ownerAlias ?? "",
    SourceAMITags: { ...source?.tags },
  };
}

/**
 * The same facts as `build` data for provisioners. The `build` function
 * yields strings, so the tag map is given as JSON (keys sorted), e.g.
 * `{"Name":"base","Team":"infra"}`.
 */
export function amiBuildData(ctx: Pick<StepContext, "config" | "state">): Record<string, string> {
  const { SourceAMITags, ...strings } = amiTemplateData(ctx);
  const sorted = Object.fromEntries(
    Object.entries(SourceAMITags).sort(([a], [b]) => a.localeCompare(b)),
  );
  return { ...strings, SourceAMITags: JSON.stringify(sorted) };
}

/** Renders a late string option (e.g. `ami_description`) with the build template data. */
export function renderAmiText(ctx: StepContext, text: unknown): string | undefined {
  if (text === undefined || text === null || text === "") return undefined;
  return ctx.render(String(text), { ...amiTemplateData(ctx) });
}

/**
 * Renders a tag option with the build template data: the map spelling
 * (`run_tags`) merged with the repeatable-block spelling (`run_tag`:
 * `[{key, value}]`), the block winning for a key set in both.
 */
export function renderTags(
  ctx: StepContext,
  tags: unknown,
  blocks?: unknown,
): { Key: string; Value: string }[] {
  const data = { ...amiTemplateData(ctx) };
  const merged = new Map(Object.entries((tags as Record<string, string> | undefined) ?? {}));
  for (const { key, value } of (blocks as { key: string; value: string }[] | undefined) ?? []) {
    merged.set(key, value);
  }
  return [...merged].map(([key, value]) => ({
    Key: ctx.render(key, data),
    Value: ctx.render(String(value), data),
  }));
}
