/**
 * Deterministic names, tokens and tags for everything a run creates, so a
 * resumed run or `kiln cleanup` finds it again by tag even where an
 * EC2-compatible endpoint ignores ClientToken.
 */
import type { StepContext } from "../../runtime/types.ts";

/** Tag keys every kiln resource carries. */
export const RUN_TAG = "kiln:run-id";
/** Tag holding the build name. */
export const BUILD_TAG = "kiln:build";

/** `kiln-<run>-<build>`, limited to what EC2 names accept. */
export function resourceName(ctx: Pick<StepContext, "runId" | "buildName">): string {
  return `kiln-${ctx.runId}-${ctx.buildName}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 255);
}

/** An idempotency token (≤ 64 ASCII chars) stable across resumes of one run/build/purpose. */
export async function clientToken(
  ctx: Pick<StepContext, "runId" | "buildName">,
  purpose: string,
): Promise<string> {
  const bytes = new TextEncoder().encode(`${ctx.runId}/${ctx.buildName}/${purpose}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 64);
}

/** The tags identifying this run and build, plus the user's own. */
export function kilnTags(
  ctx: Pick<StepContext, "runId" | "buildName">,
  extra: Record<string, string> = {},
): { Key: string; Value: string }[] {
  return [
    ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
    { Key: RUN_TAG, Value: ctx.runId },
    { Key: BUILD_TAG, Value: ctx.buildName },
  ];
}

/** Describe* filters matching resources tagged by this run and build. */
export function kilnTagFilters(
  ctx: Pick<StepContext, "runId" | "buildName">,
): { Name: string; Values: string[] }[] {
  return [
    { Name: `tag:${RUN_TAG}`, Values: [ctx.runId] },
    { Name: `tag:${BUILD_TAG}`, Values: [ctx.buildName] },
  ];
}
