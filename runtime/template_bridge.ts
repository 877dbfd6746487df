/**
 * The runtime's window on the template layer: rendering strings with a
 * build's template functions, and interpolating a component's config right
 * before it runs (so `build` data from the connect step is available).
 */
import { renderString, resolveBuildData } from "../template/mod.ts";
import type { RenderContext } from "../template/mod.ts";
import type { ConfigSchema } from "../template/schema.ts";

/** What rendering a string needs (variables, template dir, build name/type, data). */
export type { RenderContext };

/** The part of the template layer the runtime calls. */
export interface TemplateApi {
  renderString(text: string, ctx: RenderContext): string;
  resolveBuildData(
    config: Record<string, unknown>,
    schema: ConfigSchema,
    ctx: RenderContext,
  ): Record<string, unknown>;
}

const api: TemplateApi = { renderString, resolveBuildData };

/** The template layer. */
export function templateApi(): TemplateApi {
  return api;
}
