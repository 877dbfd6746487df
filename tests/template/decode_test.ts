/** decodeConfig: weak typing, durations, defaults, groups, unknown keys, paths. */
import { assertEquals } from "./assert.ts";
import { decodeConfig } from "../../template/decode.ts";
import { parseDuration } from "../../template/duration.ts";
import type { ConfigSchema } from "../../template/schema.ts";

function decode(raw: Record<string, unknown>, schema: ConfigSchema, path = "builders[1]") {
  const issues: string[] = [];
  const config = decodeConfig(raw, schema, path, (p, m) => issues.push(`${p}: ${m}`));
  return { config, issues };
}

const schema: ConfigSchema = {
  fields: {
    port: { type: "int", default: 22 },
    flag: { type: "bool" },
    ratio: { type: "number" },
    name: { type: "string", required: true },
    wait: { type: "duration", default: 300_000 },
    list: { type: "string_list" },
    tags: { type: "string_map" },
    mode: { type: "string", enum: ["a", "b"] },
    devices: {
      type: "list_of_objects",
      item: { fields: { device_name: { type: "string", required: true }, size: { type: "int" } } },
    },
    old: { type: "string", unsupported: "needs a service kiln cannot reach" },
    source: { type: "string" },
    content: { type: "string" },
  },
  exclusive: [["source", "content"]],
};

Deno.test("weak typing accepts what Packer's mapstructure accepts", () => {
  const { config, issues } = decode({
    port: "0x10",
    flag: "true",
    ratio: "1.5",
    name: 5,
    list: "a,b",
    tags: [{ a: 1 }, { b: true }],
  }, schema);
  assertEquals(issues, []);
  assertEquals(config.port, 16);
  assertEquals(config.flag, true);
  assertEquals(config.ratio, 1.5);
  assertEquals(config.name, "5");
  assertEquals(config.list, ["a", "b"]);
  assertEquals(config.tags, { a: "1", b: "1" });
  assertEquals(decode({ name: "x", port: 22.9, flag: 0 }, schema).config.port, 22);
  assertEquals(decode({ name: "x", port: true }, schema).config.port, 1);
  assertEquals(decode({ name: "x", flag: "F" }, schema).config.flag, false);
});

Deno.test("wrong types are reported with the JSON path and the expectation", () => {
  const { issues } = decode({
    port: "abc",
    flag: "yes",
    name: ["x"],
    wait: "5x",
    list: { a: 1 },
    mode: "c",
  }, schema);
  assertEquals(issues, [
    'builders[1].port: expected an integer, got "abc"',
    'builders[1].flag: expected a boolean (true or false), got "yes"',
    "builders[1].name: expected a string, got an array",
    'builders[1].wait: expected a duration such as "10s", "500ms" or "1h5m2s", got "5x"',
    "builders[1].list: expected an array of strings, got an object",
    'builders[1].mode: expected one of "a", "b", got "c"',
    'builders[1].name: "name" is required',
  ]);
});

Deno.test("durations are Go durations in milliseconds; a bare number is nanoseconds", () => {
  assertEquals(parseDuration("1h5m2s"), 3_902_000);
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("1.5h"), 5_400_000);
  assertEquals(parseDuration("-10s"), -10_000);
  assertEquals(parseDuration("0"), 0);
  assertEquals(parseDuration("10"), undefined);
  assertEquals(parseDuration(""), undefined);
  assertEquals(decode({ name: "x", wait: 2_000_000_000 }, schema).config.wait, 2000);
  assertEquals(decode({ name: "x" }, schema).config.wait, 300_000);
});

Deno.test("defaults fill absent options; null counts as absent", () => {
  const { config } = decode({ name: "x", port: null }, schema);
  assertEquals(config.port, 22);
  assertEquals("flag" in config, false);
});

Deno.test("unknown and unsupported keys, nested objects and exclusive groups name their paths", () => {
  const { issues } = decode({
    name: "x",
    bogus: 1,
    old: "y",
    source: "a",
    content: "b",
    devices: [{ device_name: "/dev/sda", size: "8" }, { size: "x", extra: 1 }],
  }, schema);
  assertEquals(issues, [
    'builders[1].bogus: unknown configuration key: "bogus"',
    'builders[1].old: "old" is not supported by kiln yet: needs a service kiln cannot reach',
    'builders[1].devices[1].size: expected an integer, got "x"',
    'builders[1].devices[1].extra: unknown configuration key: "extra"',
    'builders[1].devices[1].device_name: "device_name" is required',
    'builders[1].content: only one of "source", "content" may be set',
  ]);
});

Deno.test("oneOf, anyOf and the schema's own check report problems", () => {
  const s: ConfigSchema = {
    fields: { a: { type: "string" }, b: { type: "string" }, c: { type: "int" } },
    oneOf: [["a", "b"]],
    anyOf: [["c"]],
    check(config, report) {
      if (config.a === "bad") report("a", "a must not be bad");
    },
  };
  assertEquals(decode({}, s, "p").issues, [
    'p: exactly one of "a", "b" must be set',
    'p: at least one of "c" must be set',
  ]);
  assertEquals(decode({ a: "bad", b: "x", c: 1 }, s, "p").issues, [
    'p.b: exactly one of "a", "b" must be set',
    "p.a: a must not be bad",
  ]);
  assertEquals(decode({ a: "ok", c: 1 }, s, "p").issues, []);
});

Deno.test("[][]string options decode as Packer's: commas split at each level, values lifted", () => {
  const s: ConfigSchema = { fields: { args: { type: "string_lists" } } };
  assertEquals(decode({ args: [["-m", 512], ["-display", "none"]] }, s).config, {
    args: [["-m", "512"], ["-display", "none"]],
  });
  assertEquals(decode({ args: ["-m", "a,b"] }, s).config, { args: [["-m"], ["a", "b"]] });
  assertEquals(decode({ args: "-m,512" }, s).config, { args: [["-m"], ["512"]] });
  assertEquals(decode({ args: [["-m"], { x: 1 }] }, s).issues, [
    "builders[1].args[1]: expected an array of strings, got an object",
  ]);
  assertEquals(decode({ args: { x: 1 } }, s).issues, [
    "builders[1].args: expected an array of arrays of strings, got an object",
  ]);
});

Deno.test("prepare completes a decoded config for its build; not after a decode error", () => {
  const seen: string[] = [];
  const s: ConfigSchema = {
    fields: { name: { type: "string" }, port: { type: "int" }, old: { type: "string" } },
    deprecated: ["iso_md5"],
    check(config, report) {
      if (config.port === 1) report("port", "port 1 is refused");
    },
    prepare(config, report, build) {
      seen.push(build.name);
      config.name ||= `packer-${build.name}`;
      if (!build.force && config.old) report("old", "exists");
      if (config.port === 2) report("port[0]", "inside an option");
    },
  };
  const issues: string[] = [];
  const report = (p: string, m: string) => issues.push(`${p}: ${m}`);
  const build = { name: "web", type: "qemu", force: false };
  assertEquals(decodeConfig({}, s, "builders[0]", report, build), { name: "packer-web" });
  assertEquals(decodeConfig({ port: 2, old: "x" }, s, "b", report, build).name, "packer-web");
  assertEquals(issues, ["b.old: exists", "b.port[0]: inside an option"]);
  issues.length = 0;
  decodeConfig({ port: "x", iso_md5: "y" }, s, "b", report, build);
  decodeConfig({ port: 1 }, s, "b", report, build);
  assertEquals(seen, ["web", "web", "web"], "no prepare after a decode error; after a check, yes");
  assertEquals(issues, [
    'b.port: expected an integer, got "x"',
    "b.iso_md5: Deprecated configuration key: 'iso_md5'. Please call `kiln fix` against your " +
    "template to update it to what current versions read (`kiln fix TEMPLATE` prints the " +
    "fixed template, as `packer fix` does).",
    "b.port: port 1 is refused",
  ]);
});
