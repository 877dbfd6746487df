/**
 * What the template layer needs to know about components: which types
 * exist and each one's option schema. The template layer sits below the
 * components, so it never imports them; the top of kiln hands a registry
 * down (see `components.ts` at the repository root). Loading stays lazy,
 * one dynamic import per type, so `validate` never pays for a component's
 * heavy dependencies.
 */
import type { ConfigSchema } from "./schema.ts";

/** One kind of component (builders, provisioners, ...), looked up by type. */
export interface ComponentKind<T> {
  /** The types it knows, for "unknown type" messages. */
  types(): string[];
  /** Loads a type; undefined when the type is unknown. A rejection is a broken component. */
  load(type: string): Promise<T> | undefined;
}

/** What preparing a builder or post-processor needs: its options. */
export interface ComponentSchema {
  schema: ConfigSchema;
}

/** What preparing a provisioner needs. */
export interface ProvisionerSchema extends ComponentSchema {
  /** True when it cannot work with `"communicator": "none"` (validation refuses). */
  needsCommunicator: boolean;
}

/** What evaluating an HCL2 `data` block needs: its options, and the fetch. */
export interface DataSourceComponent extends ComponentSchema {
  /** Fetches the data; `config` is the block decoded by `schema`. */
  execute(
    config: Record<string, unknown>,
    ctx: { log(line: string): void },
  ): Promise<Record<string, unknown>>;
}

/** Every kind of component a template can name. */
export interface ComponentRegistry {
  builders: ComponentKind<ComponentSchema>;
  provisioners: ComponentKind<ProvisionerSchema>;
  postProcessors: ComponentKind<ComponentSchema>;
  /** HCL2 `data` sources, for the HCL front end. */
  dataSources?: ComponentKind<DataSourceComponent>;
}
