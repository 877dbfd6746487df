/**
 * Interpolates every string of a component's raw options, guided by its
 * schema: `late` fields keep their raw text (the component renders them with
 * its own data), strings calling `build` stay raw until the build's machine
 * exists (resolveBuildData renders them right before the component runs).
 */
import type { ConfigSchema, FieldSpec } from "./schema.ts";
import {
  checkSyntax,
  EngineError,
  type RenderContext,
  RenderLimitError,
  renderString,
  usesFunction,
} from "./engine.ts";
import { childPath, excerpt, setOwn } from "./source.ts";
import type { Report } from "./decode.ts";
import { isObject } from "./values.ts";

/** How strings are treated while walking a config. */
export interface InterpolateOptions {
  ctx: RenderContext;
  /** Provisioners and post-processors: keep `build` strings for provision time. */
  deferBuild: boolean;
}

function renderOne(
  text: string,
  path: string,
  options: InterpolateOptions,
  report: Report,
): string {
  try {
    if (options.deferBuild && usesFunction(text, "build")) {
      checkSyntax(text);
      return text;
    }
    return renderString(text, options.ctx);
  } catch (err) {
    if (err instanceof RenderLimitError && err.again) return text;
    if (err instanceof EngineError) {
      report(path, `${err.message} in: ${excerpt(text, 200)}`);
      return text;
    }
    throw err;
  }
}

function walk(
  value: unknown,
  spec: FieldSpec | undefined,
  path: string,
  options: InterpolateOptions,
  report: Report,
): unknown {
  if (typeof value === "string") {
    if (spec?.late) {
      try {
        checkSyntax(value);
      } catch (err) {
        if (err instanceof EngineError) report(path, `${err.message} in: ${excerpt(value, 200)}`);
        else throw err;
      }
      return value;
    }
    return renderOne(value, path, options, report);
  }
  if (Array.isArray(value)) {
    const itemSpec = spec?.type === "list_of_objects" ? spec : spec?.late ? spec : undefined;
    return value.map((v, i) =>
      itemSpec?.type === "list_of_objects" && isObject(v) && itemSpec.item
        ? interpolateConfig(v, itemSpec.item, childPath(path, i), options, report)
        : walk(v, spec?.late ? spec : undefined, childPath(path, i), options, report)
    );
  }
  if (isObject(value)) {
    if (spec?.type === "object" && spec.item) {
      return interpolateConfig(value, spec.item, path, options, report);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      setOwn(out, k, walk(v, spec?.late ? spec : undefined, childPath(path, k), options, report));
    }
    return out;
  }
  return value;
}

/** Returns a copy of `raw` with its strings interpolated; problems go to `report`. */
export function interpolateConfig(
  raw: Record<string, unknown>,
  schema: ConfigSchema | undefined,
  path: string,
  options: InterpolateOptions,
  report: Report,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const spec = schema && Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    setOwn(out, key, walk(value, spec, childPath(path, key), options, report));
  }
  return out;
}

function resolveValue(value: unknown, spec: FieldSpec | undefined, ctx: RenderContext): unknown {
  if (spec?.late) return value;
  if (typeof value === "string") {
    return usesFunction(value, "build") ? renderString(value, ctx) : value;
  }
  if (Array.isArray(value)) {
    return value.map((v) =>
      spec?.type === "list_of_objects" && spec.item && isObject(v)
        ? resolveBuildData(v, spec.item, ctx)
        : resolveValue(v, undefined, ctx)
    );
  }
  if (isObject(value)) {
    if (spec?.type === "object" && spec.item) return resolveBuildData(value, spec.item, ctx);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, resolveValue(v, undefined, ctx));
    return out;
  }
  return value;
}

/**
 * Renders the strings that were kept raw because they call `build`
 * (`late` fields stay raw). The runtime calls this right before a
 * provisioner or post-processor runs, with `ctx.buildData` filled in.
 * Throws EngineError when a string cannot render.
 */
export function resolveBuildData(
  config: Record<string, unknown>,
  schema: ConfigSchema,
  ctx: RenderContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const spec = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    setOwn(out, key, resolveValue(value, spec, ctx));
  }
  return out;
}
