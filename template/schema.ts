/**
 * The declarative config schema every builder, provisioner, post-processor and
 * communicator declares. One mechanism validates all of them so that error
 * messages (file, JSON path, expectation) read the same everywhere.
 *
 * Decoding follows Packer's mapstructure settings: weakly typed input
 * ("22" is accepted for an int, 1 for a bool), unknown keys are errors,
 * keys starting with "_" are comments only at the template root.
 */

/** The value kinds a config field may hold. */
export type FieldType =
  | "string"
  | "bool"
  | "int"
  | "number"
  | "duration" // Go duration string ("1h5m2s", "500ms", or a bare number of ns) → milliseconds
  | "string_list" // ["a","b"]; a single string is split on commas ("a,b"), as Packer 1.6.6 does
  | "string_map" // {"k": "v"}
  | "string_lists" // [["-m", "512"], ...]; a string is split on commas at each level, as Packer does
  | "list_of_objects" // [{...}] each decoded by `item`
  | "object" // {...} decoded by `item`
  | "any"; // passed through untouched (e.g. manifest custom_data)

/** One option of a component's configuration. */
export interface FieldSpec {
  /** What the value must be. */
  type: FieldType;
  /** The option must be present and non-empty. */
  required?: boolean;
  /** Value used when the option is absent. */
  default?: unknown;
  /** The only accepted values (strings). */
  enum?: readonly string[];
  /** The value is a secret: masked in every output and never logged. */
  sensitive?: boolean;
  /**
   * Not interpolated when the build is prepared: the component renders it
   * itself at run time with its own data (`{{.Path}}`, `{{.Vars}}`).
   */
  late?: boolean;
  /** Schema of each element (`list_of_objects`) or of the value (`object`). */
  item?: ConfigSchema;
  /** Set when the option is valid Packer but needs something kiln cannot reach. */
  unsupported?: string;
  /** One line for `inspect` and docs. */
  doc?: string;
}

/** The build a component's options are prepared for. */
export interface BuildContext {
  /** The build's name (`name`, else the builder type). */
  name: string;
  /** The builder type. */
  type: string;
  /**
   * Outputs may already exist: `-force`, or a resume or cleanup of a run
   * whose outputs they are. Off for `validate` and a fresh build, where
   * Packer refuses an existing output directory.
   */
  force: boolean;
}

/** The context a schema sees when it is decoded without a build (nested objects, tests). */
export const NO_BUILD: BuildContext = { name: "", type: "", force: true };

/** A component's whole configuration schema. */
export interface ConfigSchema {
  /** Options by their template key. */
  fields: Record<string, FieldSpec>;
  /** Groups of options of which at most one may be set. */
  exclusive?: readonly (readonly string[])[];
  /** Groups of options of which exactly one must be set. */
  oneOf?: readonly (readonly string[])[];
  /** Groups of options of which at least one must be set. */
  anyOf?: readonly (readonly string[])[];
  /**
   * Keys Packer's decoder refuses as deprecated and fixable by `packer fix`
   * (e.g. `iso_checksum_type`): named so, instead of "unknown".
   */
  deprecated?: readonly string[];
  /**
   * The component's Packer plugin id (`transcend.qemu`, `shell`), for the
   * keys Packer's fixers rewrite there (template/fix/deprecated_options.ts);
   * unset where Packer's decoder has none (the file builder, shell-local).
   */
  pluginType?: string;
  /** Cross-field checks after decoding; call `report(key, message)` per problem. */
  check?: (config: Record<string, unknown>, report: (key: string, message: string) => void) => void;
  /**
   * Packer's Prepare, after `check`: fills the defaults that depend on other
   * options or on the build (`vm_name` = `packer-<build name>`, a zero that
   * means "default"), normalises values and reports what is still wrong.
   * It mutates `config`, which is what the component's steps receive.
   */
  prepare?: (
    config: Record<string, unknown>,
    report: (key: string, message: string) => void,
    build: BuildContext,
  ) => void;
}

/** Merges several schemas into one (e.g. builder options + communicator options). */
export function composeSchema(...parts: ConfigSchema[]): ConfigSchema {
  const checks = parts.flatMap((p) => p.check ? [p.check] : []);
  const prepares = parts.flatMap((p) => p.prepare ? [p.prepare] : []);
  return {
    fields: Object.assign({}, ...parts.map((p) => p.fields)),
    exclusive: parts.flatMap((p) => p.exclusive ?? []),
    oneOf: parts.flatMap((p) => p.oneOf ?? []),
    anyOf: parts.flatMap((p) => p.anyOf ?? []),
    deprecated: parts.flatMap((p) => p.deprecated ?? []),
    pluginType: parts.find((p) => p.pluginType)?.pluginType,
    check: checks.length === 0 ? undefined : (config, report) => {
      for (const check of checks) check(config, report);
    },
    prepare: prepares.length === 0 ? undefined : (config, report, build) => {
      for (const prepare of prepares) prepare(config, report, build);
    },
  };
}
