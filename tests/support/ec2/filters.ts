/**
 * EC2 Describe* filter semantics: filters are ANDed, the values of one filter
 * ORed, values may use `*` and `?` wildcards, and `tag:<key>`, `tag-key` and
 * `tag-value` work on every taggable resource. An unknown filter name is an
 * `InvalidParameterValue`, as on EC2.
 */
import { Ec2Error } from "./errors.ts";
import type { Filter } from "./query.ts";

/** Returns the values a resource has for a filter name, or undefined when the name is unknown. */
export type FieldReader<T> = (resource: T, name: string) => (string | undefined)[] | undefined;

function wildcardRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) {
      source += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    } else if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/** Keeps the resources that match every filter. */
export function applyFilters<T>(
  resources: T[],
  filters: Filter[],
  read: FieldReader<T>,
  tagsOf: (resource: T) => Map<string, string>,
): T[] {
  const compiled = filters.map((f) => ({ name: f.name, patterns: f.values.map(wildcardRegex) }));
  return resources.filter((resource) =>
    compiled.every(({ name, patterns }) => {
      let values: (string | undefined)[] | undefined;
      if (name.startsWith("tag:")) values = [tagsOf(resource).get(name.slice(4))];
      else if (name === "tag-key") values = [...tagsOf(resource).keys()];
      else if (name === "tag-value") values = [...tagsOf(resource).values()];
      else values = read(resource, name);
      if (values === undefined) {
        throw new Ec2Error("InvalidParameterValue", `The filter '${name}' is invalid`);
      }
      return values.some((v) => v !== undefined && patterns.some((p) => p.test(v)));
    })
  );
}
