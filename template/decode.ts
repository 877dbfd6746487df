/**
 * Decodes a component's raw options against its ConfigSchema the way
 * Packer's mapstructure settings do: weakly typed ("22" for an int, 1 or
 * "true" for a bool, "a,b" for a list), unknown keys rejected, defaults
 * applied, then required/enum/exclusive/oneOf/anyOf, the schema's own
 * check and its prepare (Packer's Prepare). Every problem is reported with
 * its JSON path.
 */
import { isFixableOption } from "./fix/deprecated_options.ts";
import { type BuildContext, type ConfigSchema, type FieldSpec, NO_BUILD } from "./schema.ts";
import { childPath, excerpt, setOwn } from "./source.ts";
import {
  durationOutOfRange,
  MAX_DURATION_TEXT,
  nanosecondsOutOfRange,
  parseDuration,
} from "./duration.ts";
import { isObject, weakString } from "./values.ts";

/** Receives one problem: the JSON path of the value and what was expected. */
export type Report = (path: string, message: string) => void;

const describe = (v: unknown): string =>
  Array.isArray(v) ? "an array" : isObject(v) ? "an object" : excerpt(JSON.stringify(v), 200);

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Why an int option refuses a value that is a number but does not fit Go's int64. */
const INT_RANGE = "value out of range (an integer option holds -9223372036854775808 to " +
  "9223372036854775807)";

/**
 * Go's strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary,
 * underscores. "out of range" when it is an integer that int64 cannot hold.
 */
function parseGoInt(s: string): number | "out of range" | undefined {
  if (s === "") return 0;
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9][0-9_]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2].replace(/_/g, "");
  // A leading 0 alone means octal in Go ("010" is 8, "08" is no number).
  const legacyOctal = /^0[0-9]/.test(body);
  if (legacyOctal && !/^0[0-7]+$/.test(body)) return undefined;
  const digits = legacyOctal ? "0o" + body.slice(1) : body;
  const n = m[1] === "-" ? -BigInt(digits) : BigInt(digits);
  return n > INT64_MAX || n < INT64_MIN ? "out of range" : Number(n);
}

const DURATION_RANGE = `value out of range (a duration is at most ${MAX_DURATION_TEXT})`;

const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False", ""];

function decodeValue(v: unknown, spec: FieldSpec, path: string, report: Report): unknown {
  switch (spec.type) {
    case "any":
      return v;
    case "string": {
      const s = weakString(v);
      if (s === undefined) report(path, `expected a string, got ${describe(v)}`);
      return s;
    }
    case "bool": {
      if (typeof v === "boolean") return v;
      if (typeof v === "number") return v !== 0;
      if (typeof v === "string" && TRUE.includes(v)) return true;
      if (typeof v === "string" && FALSE.includes(v)) return false;
      report(path, `expected a boolean (true or false), got ${describe(v)}`);
      return undefined;
    }
    case "int": {
      // Packer truncates a fraction (22.5 → 22), and turns a number past int64 into
      // garbage without a word; kiln refuses that one.
      if (typeof v === "number") {
        if (Number.isFinite(v) && Math.abs(Math.trunc(v)) < 2 ** 63) return Math.trunc(v);
        report(path, `expected an integer, got ${describe(v)}: ${INT_RANGE}`);
        return undefined;
      }
      if (typeof v === "boolean") return v ? 1 : 0;
      const n = typeof v === "string" ? parseGoInt(v) : undefined;
      if (n === "out of range") {
        report(path, `expected an integer, got ${describe(v)}: ${INT_RANGE}`);
        return undefined;
      }
      if (n === undefined) report(path, `expected an integer, got ${describe(v)}`);
      return n;
    }
    case "number": {
      if (typeof v === "boolean") return v ? 1 : 0;
      if (typeof v === "string" && v === "") return 0;
      const n = typeof v === "number"
        ? v
        : typeof v === "string" && v.trim() !== ""
        ? Number(v)
        : NaN;
      if (Number.isNaN(n)) report(path, `expected a number, got ${describe(v)}`);
      else if (!Number.isFinite(n)) {
        // Go's strconv.ParseFloat: "value out of range".
        report(path, `expected a number, got ${describe(v)}: value out of range`);
      }
      return Number.isFinite(n) ? n : undefined;
    }
    case "duration": {
      // A bare number is nanoseconds, as Go's time.Duration. Past int64 Packer gets
      // garbage without a word; kiln refuses it.
      if (typeof v === "number") {
        if (!nanosecondsOutOfRange(v)) return Math.trunc(v) / 1e6;
        report(path, `expected a duration, got ${describe(v)} nanoseconds: ${DURATION_RANGE}`);
        return undefined;
      }
      if (typeof v === "string") {
        const ms = parseDuration(v);
        if (ms === undefined) {
          report(
            path,
            durationOutOfRange(v)
              ? `invalid duration ${describe(v)}: ${DURATION_RANGE}`
              : `expected a duration such as "10s", "500ms" or "1h5m2s", got ${describe(v)}`,
          );
        }
        return ms;
      }
      report(path, `expected a duration such as "10s", "500ms" or "1h5m2s", got ${describe(v)}`);
      return undefined;
    }
    case "string_list": {
      // Packer splits a single string on commas ("a,b" → ["a", "b"]).
      if (typeof v === "string") return v === "" ? [] : v.split(",");
      const items = Array.isArray(v) ? v : isObject(v) ? undefined : [v];
      if (!items) {
        report(path, `expected an array of strings, got ${describe(v)}`);
        return undefined;
      }
      const out: string[] = [];
      items.forEach((item, i) => {
        const s = weakString(item);
        if (s === undefined && item !== null) {
          report(childPath(path, i), `expected a string, got ${describe(item)}`);
        } else out.push(s ?? "");
      });
      return out;
    }
    case "string_lists": {
      // Packer's decoder splits a string on commas at each level and lifts a
      // lone value into a list: "-m,512" is [["-m"], ["512"]].
      const rows = typeof v === "string"
        ? (v === "" ? [] : v.split(","))
        : Array.isArray(v)
        ? v
        : isObject(v)
        ? undefined
        : [v];
      if (!rows) {
        report(path, `expected an array of arrays of strings, got ${describe(v)}`);
        return undefined;
      }
      let ok = true;
      const out = rows.map((row, i) => {
        if (row === null) return [];
        if (isObject(row)) {
          report(childPath(path, i), `expected an array of strings, got ${describe(row)}`);
          ok = false;
          return [];
        }
        const list = decodeValue(row, { type: "string_list" }, childPath(path, i), report);
        if (list === undefined) ok = false;
        return (list as string[] | undefined) ?? [];
      });
      return ok ? out : undefined;
    }
    case "string_map": {
      const maps = isObject(v) ? [v] : Array.isArray(v) && v.every(isObject) ? v : undefined;
      if (!maps) {
        report(path, `expected an object of string values, got ${describe(v)}`);
        return undefined;
      }
      const out: Record<string, string> = {};
      for (const m of maps) {
        for (const [k, item] of Object.entries(m as Record<string, unknown>)) {
          const s = weakString(item);
          if (s === undefined && item !== null) {
            report(childPath(path, k), `expected a string, got ${describe(item)}`);
          } else setOwn(out, k, s ?? "");
        }
      }
      return out;
    }
    case "object": {
      if (!isObject(v)) {
        report(path, `expected an object, got ${describe(v)}`);
        return undefined;
      }
      return spec.item ? decodeConfig(v, spec.item, path, report) : { ...v };
    }
    case "list_of_objects": {
      const items = Array.isArray(v) ? v : isObject(v) ? [v] : undefined;
      if (!items) {
        report(path, `expected an array of objects, got ${describe(v)}`);
        return undefined;
      }
      return items.map((item, i) => {
        const p = childPath(path, i);
        if (!isObject(item)) {
          report(p, `expected an object, got ${describe(item)}`);
          return undefined;
        }
        return spec.item ? decodeConfig(item, spec.item, p, report) : { ...item };
      });
    }
  }
}

/** Set and non-empty: what Packer's `x != ""` style checks mean by "specified". */
/**
 * One option's value as the decoder reads it, or undefined when it would
 * report a problem (e.g. `hcl2_upgrade` writing what JSON meant in HCL2's
 * stricter types).
 */
export function decodedOption(v: unknown, spec: FieldSpec): { value: unknown } | undefined {
  let ok = true;
  const value = decodeValue(v, spec, "", () => ok = false);
  return ok ? { value } : undefined;
}

export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

const quoteList = (keys: readonly string[]) => keys.map((k) => `"${k}"`).join(", ");

/** Packer's words for a key its `packer fix` rewrites, pointing at kiln's own `kiln fix`. */
function deprecatedMessage(key: string): string {
  return `Deprecated configuration key: '${key}'. Please call \`kiln fix\` against your ` +
    "template to update it to what current versions read (`kiln fix TEMPLATE` prints the " +
    "fixed template, as `packer fix` does).";
}

/**
 * Decodes `raw` against `schema`. `path` is the JSON path of the object
 * (e.g. `builders[1]`); every problem goes to `report`. Returns the decoded
 * config with defaults applied (values that failed to decode are omitted),
 * then completed by the schema's `prepare` for `build`.
 */
export function decodeConfig(
  raw: Record<string, unknown>,
  schema: ConfigSchema,
  path: string,
  report: Report,
  build: BuildContext = NO_BUILD,
): Record<string, unknown> {
  const reportTo = report;
  let problems = 0;
  report = (p, message) => {
    problems++;
    reportTo(p, message);
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const p = childPath(path, key);
    if (!Object.hasOwn(schema.fields, key)) {
      report(
        p,
        schema.deprecated?.includes(key) || isFixableOption(schema.pluginType, key)
          ? deprecatedMessage(key)
          : `unknown configuration key: "${key}"`,
      );
      continue;
    }
    const spec = schema.fields[key];
    if (spec.unsupported) {
      report(p, `"${key}" is not supported by kiln yet: ${spec.unsupported}`);
      continue;
    }
    // A JSON null decodes to the zero value in Packer: treat it as unset.
    if (value === null) continue;
    const decoded = decodeValue(value, spec, p, report);
    if (decoded === undefined) continue;
    if (spec.enum && typeof decoded === "string" && !spec.enum.includes(decoded)) {
      report(p, `expected one of ${quoteList(spec.enum)}, got ${JSON.stringify(decoded)}`);
      continue;
    }
    setOwn(out, key, decoded);
  }
  for (const [key, spec] of Object.entries(schema.fields)) {
    if (!Object.hasOwn(out, key) && spec.default !== undefined) {
      out[key] = structuredClone(spec.default);
    }
    if (spec.required && !isSet(out[key])) report(childPath(path, key), `"${key}" is required`);
  }
  for (const group of schema.exclusive ?? []) {
    const set = group.filter((k) => isSet(out[k]));
    if (set.length > 1) {
      report(childPath(path, set[1]), `only one of ${quoteList(group)} may be set`);
    }
  }
  for (const group of schema.oneOf ?? []) {
    const set = group.filter((k) => isSet(out[k]));
    if (set.length !== 1) {
      report(
        set.length === 0 ? path : childPath(path, set[1]),
        `exactly one of ${quoteList(group)} must be set`,
      );
    }
  }
  for (const group of schema.anyOf ?? []) {
    if (!group.some((k) => isSet(out[k]))) {
      report(path, `at least one of ${quoteList(group)} must be set`);
    }
  }
  const decodedCleanly = problems === 0;
  // A check may name a value inside an option ("qemuargs[2]"): that is a path, not a key.
  const at = (key: string, message: string) =>
    report(
      !key
        ? path
        : /^[A-Za-z_]\w*[[.]/.test(key)
        ? (path ? `${path}.${key}` : key)
        : childPath(path, key),
      message,
    );
  try {
    schema.check?.(out, at);
    // As Packer, Prepare runs on a config that decoded: an option that failed to
    // decode is missing from `out`, and Prepare would blame its absence.
    if (decodedCleanly) schema.prepare?.(out, at, build);
  } catch (err) {
    report(path, `invalid configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
  return out;
}
