/**
 * Data source registry. Loaders are lazy, as the builders' are: a template
 * that reads no AMI never loads the AWS SDK.
 */
import type { DataSourcePlugin } from "./datasource.ts";

const loaders: Record<string, () => Promise<DataSourcePlugin>> = {
  "http": () => import("./http.ts").then((m) => m.httpDataSource),
  "amazon-ami": () => import("./amazon_ami.ts").then((m) => m.amazonAmiDataSource),
};

/** Data source types kiln knows. */
export function dataSourceTypes(): string[] {
  return Object.keys(loaders);
}

/** Loads a data source by type, or undefined for an unknown type. */
export function loadDataSource(type: string): Promise<DataSourcePlugin> | undefined {
  return Object.hasOwn(loaders, type) ? loaders[type]() : undefined;
}

export type { DataSourceContext, DataSourcePlugin } from "./datasource.ts";
