/**
 * Packer's HCL2 function library. `hclFunctions(render)` builds it with the
 * template renderer templatefile needs; `FUNCTIONS` is the library without
 * one (templatefile then reports that it is unavailable).
 *
 * Not here, because they need the evaluator: can, try, sensitive,
 * nonsensitive.
 */
import type { HclFunction } from "../value.ts";
import { COLLECTION_FUNCTIONS } from "./collection.ts";
import { CONVERSION_FUNCTIONS } from "./conversion.ts";
import { CRYPTO_FUNCTIONS } from "./crypto.ts";
import { DATETIME_FUNCTIONS } from "./datetime.ts";
import { ENCODING_FUNCTIONS } from "./encoding.ts";
import { filesystemFunctions, type TemplateRenderer } from "./filesystem.ts";
import { FORMAT_FUNCTIONS } from "./format.ts";
import { IPNET_FUNCTIONS } from "./ipnet.ts";
import { NUMERIC_FUNCTIONS } from "./numeric.ts";
import { REGEX_FUNCTIONS } from "./regex.ts";
import { SET_FUNCTIONS } from "./sets.ts";
import { STRING_FUNCTIONS } from "./string.ts";
import { YAML_FUNCTIONS } from "./yaml.ts";

export type { TemplateRenderer };

/** Every library function by name, templatefile rendering with `render`. */
export function hclFunctions(render?: TemplateRenderer): Record<string, HclFunction> {
  return {
    ...NUMERIC_FUNCTIONS,
    ...STRING_FUNCTIONS,
    ...FORMAT_FUNCTIONS,
    ...REGEX_FUNCTIONS,
    ...COLLECTION_FUNCTIONS,
    ...SET_FUNCTIONS,
    ...ENCODING_FUNCTIONS,
    ...YAML_FUNCTIONS,
    ...filesystemFunctions(render),
    ...DATETIME_FUNCTIONS,
    ...CRYPTO_FUNCTIONS,
    ...IPNET_FUNCTIONS,
    ...CONVERSION_FUNCTIONS,
  };
}

/** The library without a templatefile renderer. */
export const FUNCTIONS: Record<string, HclFunction> = hclFunctions();
