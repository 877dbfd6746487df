/**
 * Hostile values for fuzzing: strings that break template engines, parsers
 * and terminals, and values of every JSON type, so a mutation can put the
 * wrong type at any path.
 */
import type { Rand } from "./prng.ts";

/** Go-template fragments that are syntax or evaluation errors (or edge cases) in the engine. */
export const ENGINE_ERRORS = [
  "{{",
  "}}",
  "{{ }}",
  "{{ user `nope` }}",
  "{{ user }}",
  "{{ env }}",
  "{{ (((( }}",
  "{{ ) }}",
  "{{ isotime `` }}",
  "{{ isotime `Z07:00 .999 _2 __2` }}",
  "{{ split `a` `b` 99999999999 }}",
  "{{ split `a-b` `-` -1 }}",
  "{{ printf `%!d` }}",
  "{{ printf `%*d` 999999999 1 }}",
  "{{ timestamp | | }}",
  "{{ range $i := . }}{{ end }}",
  "{{ template `x` }}",
  "{{ define `x` }}{{ end }}",
  "{{ .Missing.Deep.Path }}",
  "{{ if }}",
  "{{ else }}",
  "{{ end }}",
  "{{ with $x := 1 }}",
  "{{ $x }}",
  "{{/* unclosed comment",
  "{{- -}}",
  "{{ 'ab' }}",
  '{{ "unterminated }}',
  "{{ `raw",
  "{{ 1e999999 }}",
  "{{ 0x }}",
  "{{ replace_all `` `x` (user `a`) }}",
  "{{ vault `a` `b` }}",
  "{{ consul_key `k` }}",
  "{{ aws_secretsmanager `s` }}",
  "{{ uuid }}{{ uuid }}",
  "{{ build `Nope` }}",
  "{{ upper (lower (upper (lower `x`))) }}",
  "{{ clean_resource_name `Ä Ö %%%` }}",
  "{{ strftime `%Y %` }}",
  "{{ frob }}",
  "{{ . }}",
  "{{ index . `x` }}",
  "{{ len 5 }}",
  "{{ call 1 }}",
  "{{ and }}",
  "{{ not 1 2 }}",
  "{{ slice `abc` 2 1 }}",
];

/** Strings that are hostile as data: encodings, control bytes, shells, paths, numbers as text. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uFEFF",
  "\u202Eevil",
  "😀🔥",
  "e\u0301",
  "\uD800",
  "\uDFFF\uD800",
  "\r\n\r\n",
  "\x1b[31mred\x1b[0m\x1b]0;title\x07",
  "../../../../etc/passwd",
  "/dev/null",
  "$(id)",
  "`id`",
  "'; exit 1; '",
  "%s%n%x",
  "1e309",
  "-0",
  "9007199254740993",
  "0x1F",
  "1h1h1h",
  "-5s",
  "999999999999h",
  "NaN",
  "true",
  "null",
  "ssh",
  "winrm",
  "none",
  "*",
  "**/*",
  "[",
  "{",
  "\\",
  '"',
  "__proto__",
  "constructor",
];

/** Option names worth trying as keys: real ones in the wrong place, near misses, prototype keys. */
export const KEYS = [
  "type",
  "name",
  "only",
  "except",
  "override",
  "pause_before",
  "max_retries",
  "timeout",
  "keep_input_artifact",
  "communicator",
  "ssh_host",
  "ssh_port",
  "ssh_timeout",
  "ssh_password",
  "ssh_private_key_file",
  "inline",
  "script",
  "scripts",
  "environment_vars",
  "execute_command",
  "valid_exit_codes",
  "target",
  "content",
  "source",
  "destination",
  "direction",
  "output",
  "format",
  "compression_level",
  "checksum_types",
  "builders",
  "provisioners",
  "post-processors",
  "post-processor",
  "variables",
  "sensitive-variables",
  "min_packer_version",
  "error-cleanup-provisioner",
  "description",
  "_comment",
  "bogus",
  "Type",
  "ssh_prot",
  "__proto__",
  "constructor",
  "prototype",
  "",
];

/** Component types: real ones of every kind and one that does not exist. */
export const TYPES = [
  "null",
  "file",
  "amazon-instance",
  "shell-local",
  "shell",
  "file",
  "breakpoint",
  "compress",
  "checksum",
  "manifest",
  "artifice",
  "frob",
];

/** A random hostile or engine-breaking string, sometimes glued to another. */
export function hostileString(rand: Rand): string {
  const one = () => rand.pick(rand.chance(0.5) ? ENGINE_ERRORS : HOSTILE_STRINGS);
  return rand.chance(0.3) ? one() + one() : one();
}

/** A JSON value of a random type; `depth` bounds nesting. */
export function randomValue(rand: Rand, depth = 0): unknown {
  switch (rand.int(depth > 2 ? 6 : 9)) {
    case 0:
      return hostileString(rand);
    case 1:
      return rand.pick([0, -1, 1, 22, 65536, -2147483649, 1.5, 1e308, -1e-308, 2 ** 53 + 2]);
    case 2:
      return rand.chance(0.5);
    case 3:
      return null;
    case 4:
      return rand.pick(TYPES);
    case 5:
      return rand.pick(["1s", "0s", "-1s", "5x", "1h5m", ""]);
    case 6:
      return Array.from({ length: rand.int(3) }, () => randomValue(rand, depth + 1));
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = rand.int(3); i > 0; i--) {
        setKey(o, rand.pick(KEYS), randomValue(rand, depth + 1));
      }
      if (rand.chance(0.5)) o.type = rand.pick(TYPES);
      return o;
    }
    default:
      return { type: rand.pick(TYPES), [rand.pick(KEYS)]: randomValue(rand, depth + 1) };
  }
}

/** A value whose JSON type differs from `value`'s. */
export function wrongTypeFor(value: unknown, rand: Rand): unknown {
  const kinds = ["string", "number", "boolean", "null", "array", "object"].filter((k) =>
    k !== jsonKind(value)
  );
  return sampleOfKind(rand.pick(kinds), rand);
}

/** Every JSON type but `value`'s, one sample each (for "wrong type at every path"). */
export function everyWrongType(value: unknown): unknown[] {
  const samples: Record<string, unknown> = {
    string: "{{ user `nope` }}",
    number: 7,
    boolean: true,
    null: null,
    array: ["x", 1],
    object: { type: "frob", x: 1 },
  };
  return Object.entries(samples).filter(([k]) => k !== jsonKind(value)).map(([, v]) => v);
}

/** The JSON type of a value: string, number, boolean, null, array or object. */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function sampleOfKind(kind: string, rand: Rand): unknown {
  switch (kind) {
    case "string":
      return hostileString(rand);
    case "number":
      return rand.pick([0, -1, 3.25, 1e308, 2 ** 53 + 2]);
    case "boolean":
      return rand.chance(0.5);
    case "null":
      return null;
    case "array":
      return [randomValue(rand, 2)];
    default:
      return { [rand.pick(KEYS)]: randomValue(rand, 2) };
  }
}

/** Sets `key` as an own, enumerable property (so "__proto__" becomes a real JSON key). */
export function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
