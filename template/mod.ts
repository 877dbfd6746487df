/**
 * The template layer's public API: what the runtime and the CLI use.
 * Parsing, variables, interpolation and decoding live in their own files.
 */
export { prepareTemplate } from "./prepare.ts";
export type { PrepareOptions } from "./prepare.ts";
export type {
  ComponentKind,
  ComponentRegistry,
  ComponentSchema,
  ProvisionerSchema,
} from "./registry.ts";
export { parseTemplate } from "./parse.ts";
export { renderString } from "./engine.ts";
export type { RenderContext } from "./engine.ts";
export { EngineError } from "./engine.ts";
export { resolveBuildData } from "./interpolate.ts";
export { INIT_TIME, restoreInitTime } from "./funcs.ts";
export { decodeConfig } from "./decode.ts";
export { parseDuration } from "./duration.ts";
export { formatIssue, TemplateError } from "./types.ts";
export type * from "./types.ts";
export type * from "./schema.ts";
