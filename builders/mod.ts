/**
 * Builder registry. Loaders are lazy so `validate` never pays for a builder's
 * heavy dependencies (the AWS SDK loads only inside the steps that call it).
 */
import type { BuilderPlugin } from "./builder.ts";

const loaders: Record<string, () => Promise<BuilderPlugin>> = {
  "null": () => import("./null.ts").then((m) => m.nullBuilder),
  "file": () => import("./file.ts").then((m) => m.fileBuilder),
  "amazon-ebs": () => import("./amazon_ebs.ts").then((m) => m.amazonEbsBuilder),
  "amazon-instance": () => import("./amazon_instance.ts").then((m) => m.amazonInstanceBuilder),
  "qemu": () => import("./qemu/mod.ts").then((m) => m.qemuBuilder),
};

/** Builder types kiln knows. */
export function builderTypes(): string[] {
  return Object.keys(loaders);
}

/** Loads a builder by type, or undefined for an unknown type. */
export function loadBuilder(type: string): Promise<BuilderPlugin> | undefined {
  return Object.hasOwn(loaders, type) ? loaders[type]() : undefined;
}

export type { BuilderPlugin, BuildInfo } from "./builder.ts";
