/**
 * Reads the form-encoded parameters of an EC2 Query request. The SDK's ec2Query
 * serializer flattens lists as `Name.1`, `Name.2`, ... and nested structures as
 * `Name.1.Member`, so a view over a key prefix is all the actions need.
 */
import { Ec2Error, missingParameter } from "./errors.ts";

/** A `Name`/`Value.N` filter from `Filter.N`. */
export interface Filter {
  name: string;
  values: string[];
}

/** A key/value tag. */
export interface Tag {
  key: string;
  value: string;
}

/** A view over the request parameters below one key prefix (the root view has none). */
export class QueryParams {
  readonly #all: Map<string, string>;
  readonly #prefix: string;

  constructor(all: Map<string, string>, prefix = "") {
    this.#all = all;
    this.#prefix = prefix;
  }

  /** Parses an `application/x-www-form-urlencoded` body. */
  static parse(body: string): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(body)));
  }

  /** The parameter `name` below this view, if sent. */
  get(name: string): string | undefined {
    return this.#all.get(this.#prefix + name);
  }

  /**
   * The parameter `name` unless absent or empty: clients such as Packer send
   * `VpcId=` or `SubnetId=` for "not set", which EC2 treats as absent.
   */
  optional(name: string): string | undefined {
    const value = this.get(name);
    return value === "" ? undefined : value;
  }

  /** The parameter `name`, or `MissingParameter`. */
  required(name: string): string {
    const value = this.get(name);
    if (value === undefined || value === "") throw missingParameter(this.#prefix + name);
    return value;
  }

  /** A boolean parameter (`true`/`false`). */
  bool(name: string): boolean | undefined {
    const value = this.get(name);
    return value === undefined ? undefined : value === "true";
  }

  /** An integer parameter, or `InvalidParameterValue` when it is not one. */
  int(name: string): number | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Invalid value '${value}' for ${this.#prefix + name}: expected an integer`,
      );
    }
    return n;
  }

  /** True when any parameter starts with `name.` or equals `name`. */
  has(name: string): boolean {
    const key = this.#prefix + name;
    for (const k of this.#all.keys()) if (k === key || k.startsWith(key + ".")) return true;
    return false;
  }

  /** The indexes N present for `name.N...`, ascending. */
  #indexes(name: string): number[] {
    const start = this.#prefix + name + ".";
    const seen = new Set<number>();
    for (const key of this.#all.keys()) {
      if (!key.startsWith(start)) continue;
      const n = Number(key.slice(start.length).split(".")[0]);
      if (Number.isInteger(n)) seen.add(n);
    }
    return [...seen].sort((a, b) => a - b);
  }

  /** The scalar list `name.1`, `name.2`, ... */
  list(name: string): string[] {
    return this.#indexes(name).map((n) => this.get(`${name}.${n}`)).filter((v) =>
      v !== undefined
    ) as string[];
  }

  /** The structure list `name.N.*`, one view per member. */
  structs(name: string): QueryParams[] {
    return this.#indexes(name).map((n) => this.child(`${name}.${n}`));
  }

  /** A view of the nested structure `name.*`. */
  child(name: string): QueryParams {
    return new QueryParams(this.#all, `${this.#prefix}${name}.`);
  }

  /** `Filter.N.Name` / `Filter.N.Value.M`. */
  filters(): Filter[] {
    return this.structs("Filter").map((f) => ({
      name: f.required("Name"),
      values: f.list("Value"),
    }));
  }

  /** A tag list such as `Tag.N.Key`/`Tag.N.Value`. */
  tags(name = "Tag"): Tag[] {
    return this.structs(name).map((t) => ({ key: t.required("Key"), value: t.get("Value") ?? "" }));
  }

  /** `TagSpecification.N.ResourceType` with its `Tag.M` list. */
  tagSpecifications(): { resourceType: string; tags: Tag[] }[] {
    return this.structs("TagSpecification").map((s) => ({
      resourceType: s.required("ResourceType"),
      tags: s.tags("Tag"),
    }));
  }

  /** Every key/value pair, for the request log. */
  entries(): [string, string][] {
    return [...this.#all.entries()];
  }
}
