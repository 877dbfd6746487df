/** The template engine: Packer's functions, Go template syntax, Go time layouts. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { EngineError, renderString, usesFunction } from "../../template/engine.ts";
import { formatGoTime, formatStrftime } from "../../template/time_format.ts";
import { INIT_TIME } from "../../template/funcs.ts";

const ctx = {
  variables: { v: "a-b-c", name: "World" },
  templateDir: "/tpl/dir",
  buildName: "my-Build",
  buildType: "file",
};
const render = (text: string, extra: Record<string, unknown> = {}) =>
  renderString(text, { ...ctx, ...extra });

// 2024-02-29 13:04:05.120 UTC, a Thursday, day 60 of a leap year.
const t = new Date(Date.UTC(2024, 1, 29, 13, 4, 5, 120));

Deno.test("isotime layouts translate every Go reference-time element", () => {
  const cases: [string, string][] = [
    ["2006-01-02T15:04:05Z07:00", "2024-02-29T13:04:05Z"],
    ["2006-01-02 03:04:05PM", "2024-02-29 01:04:05PM"],
    ["Mon Monday Jan January", "Thu Thursday Feb February"],
    ["1/2/06 3:4:5 pm", "2/29/24 1:4:5 pm"],
    ["_2|__2|002", "29| 60|060"],
    ["MST -0700 -07:00 -07 Z0700 Z07:00", "UTC +0000 +00:00 +00 Z Z"],
    ["15:04:05.000|.999|.000000|,000", "13:04:05.120|.12|.120000|,120"],
    ["05.9", "05.1"],
    ["Hour15Year200603", "Hour13Year202401"],
    ["02-Jan-06 03_04_05", "29-Feb-24 01_04_05"],
    ["_2006", "_2024"],
  ];
  for (const [layout, want] of cases) assertEquals(formatGoTime(t, layout), want, layout);
});

Deno.test("strftime follows go-strftime: known directives convert, unknown ones stay literal", () => {
  assertEquals(
    formatStrftime(t, "%Y-%m-%d %H:%M:%S %I%p %a %A %b %B %y %Z %z %L %%"),
    "2024-02-29 13:04:05 01PM Thu Thursday Feb February 24 UTC +0000 .120 %",
  );
  assertEquals(formatStrftime(t, "%c %e %j trailing %"), "%c %e %j trailing %");
});

Deno.test("isotime and timestamp use one time per process run", () => {
  const a = render("{{timestamp}}|{{isotime}}");
  const b = render("{{timestamp}}|{{isotime}}");
  assertEquals(a, b);
  assertEquals(a.split("|")[0], String(Math.floor(INIT_TIME.getTime() / 1000)));
  assertEquals(a.split("|")[1], formatGoTime(INIT_TIME, "2006-01-02T15:04:05Z07:00"));
  assertEquals(render("{{isotime `2006`}}"), String(INIT_TIME.getUTCFullYear()));
});

Deno.test("Packer functions: user, split, replace, case, build_name/type, dirs, version", () => {
  assertEquals(
    render(
      '{{split (user `v`) `-` 1}}|{{ split build_name "-" 0 }}|{{build_type}}|' +
        "{{upper `aB`}}{{lower `aB`}}|{{ build_name | replace `-` `/` 1 }}|{{ replace_all `-` `/` (user `v`) }}",
    ),
    "b|my|file|ABab|my/Build|a/b/c",
  );
  assertEquals(
    render("{{ user `missing` }}"),
    "",
    "an undefined variable renders empty outside variables",
  );
  assertEquals(render("{{template_dir}}|{{packer_version}}"), "/tpl/dir|1.6.6");
  assertEquals(render("{{pwd}}"), Deno.cwd());
  assertEquals(render("{{ clean_resource_name `My Build:Name_1.2` }}"), "my-build-name-1-2");
  assertEquals(render("{{ replace `a` `b` -1 `aaa` }}|{{ replace_all `` `-` `ab` }}"), "bbb|-a-b-");
  assert(/^[0-9a-f-]{36}$/.test(render("{{uuid}}")));
  assert(render("{{uuid}}") !== render("{{uuid}}"), "uuid is random per call");
});

Deno.test("Go syntax: pipes, raw and quoted strings with escapes, numbers, trim markers, comments", () => {
  assertEquals(render("{{ user `name` | upper | lower }}"), "world");
  assertEquals(render('{{ "a\\tb\\u0041\\x41\\101" }}|{{ `raw\\n` }}'), "a\tbAAA|raw\\n");
  assertEquals(render("{{ 3 }}|{{ 1.5 }}|{{ 0x10 }}|{{ true }}|{{ 'a' }}"), "3|1.5|16|true|97");
  assertEquals(render("a  {{- ` b ` -}}  c"), "a b c");
  assertEquals(render("a{{/* note */}}b{{- /* x */ -}} c"), "abc");
  assertEquals(
    render("{{ printf `%s=%d %q %5s|%-3s|%x` `k` 7 `q` `r` `l` 255 }}"),
    'k=7 "q"     r|l  |ff',
  );
  assertEquals(
    render("{{ len `abc` }}|{{ html `<a>` }}|{{ slice `abcdef` 1 3 }}|{{ index `ab` 1 }}"),
    "3|&lt;a&gt;|bc|98",
  );
});

Deno.test("control flow and data: if/else if/else, with, range, variables, .Field", () => {
  assertEquals(render("{{ if eq (user `v`) `x` }}1{{ else if eq 1 1 }}2{{ else }}3{{ end }}"), "2");
  assertEquals(
    render("{{ with .Path }}[{{ . }}]{{ else }}none{{ end }}", { data: { Path: "/p" } }),
    "[/p]",
  );
  assertEquals(
    render("{{ range .Vars }}<{{ . }}>{{ end }}", { data: { Vars: ["a", "b"] } }),
    "<a><b>",
  );
  assertEquals(render("{{ $x := upper `a` }}{{ $x }}{{ $x }}"), "AA");
  assertEquals(
    render("{{.Vars}} sudo {{ .Path }}", { data: { Vars: "A=1", Path: "/tmp/s" } }),
    "A=1 sudo /tmp/s",
  );
  assertEquals(render("{{ .Missing }}|{{ . }}"), "<no value>|<no value>");
  assertEquals(render("{{ .A.B }}", { data: { A: { B: "deep" } } }), "deep");
});

Deno.test("build resolves from build data; without it the error says when it is available", () => {
  assertEquals(
    render("{{ build `Host` }}:{{ build `Port` }}", { buildData: { Host: "h", Port: "22" } }),
    "h:22",
  );
  assertThrows(
    () => render("{{ build `Host` }}"),
    /only available in provisioners and post-processors/,
  );
  assertThrows(
    () => render("{{ build `Nope` }}", { buildData: { Host: "h" } }),
    /unknown build variable Nope; available: Host/,
  );
  assert(usesFunction("x {{ build `ID` }}", "build"));
  assert(usesFunction("{{ upper (build `ID`) }}", "build"));
  assert(!usesFunction("{{ user `build` }}", "build"));
  assert(!usesFunction("no template", "build"));
});

Deno.test("errors read like Packer's and name the failing function", () => {
  const err = (text: string) => {
    try {
      render(text);
    } catch (e) {
      assert(e instanceof EngineError, `${text} threw ${e}`);
      return e.message;
    }
    throw new Error(`${text} rendered`);
  };
  assertEquals(err("{{ frob }}"), 'template: root:1: function "frob" not defined');
  assertEquals(err("{{ upper `a` "), "template: root:1: unclosed action");
  assertEquals(
    err("{{ split `a-b` `-` 5 }}"),
    'template: root:1:3: executing "root" at <split `a-b` `-` 5>: error calling split: ' +
      "the substring 5 was unavailable using the separator value, -, only 2 values were found",
  );
  assertEquals(
    err("{{ replace `a` `b` `2` `aaa` }}").endsWith("expected integer; found `2`"),
    true,
  );
  assertEquals(err("{{ user }}").endsWith("wrong number of args for user: want 1 got 0"), true);
  assertEquals(err("{{ isotime `a` `b` }}").endsWith("too many values, 1 needed: [a b]"), true);
  assert(err("{{ env `HOME` }}").includes("env vars are not allowed here"));
  assert(err("{{ vault `a` `b` }}").includes("not supported yet by kiln"));
  assert(err("{{ consul_key `a` }}").includes("not supported yet by kiln"));
  assert(err("{{ aws_secretsmanager `a` }}").includes("not supported yet by kiln"));
  assert(err("{{ if 1 }}never closed").includes("unexpected EOF"));
  assert(err("{{ end }}").includes("unexpected {{end}}"));
  assert(err("{{ nil }}").includes("nil is not a command"));
  assert(err("{{ | upper }}").includes('unexpected "|"'));
  assert(err('{{ "unterminated }}').includes("unterminated quoted string"));
  assert(err("{{ define `x` }}{{ end }}").includes("not supported"));
});

Deno.test("env and required user variables work while variables resolve", () => {
  Deno.env.set("KILN_ENGINE_TEST", "from-env");
  try {
    assertEquals(
      renderString("{{env `KILN_ENGINE_TEST`}}", { ...ctx, inVariables: true }),
      "from-env",
    );
    assertThrows(
      () => renderString("{{user `later`}}", { ...ctx, inVariables: true }),
      /variable not set: later/,
    );
  } finally {
    Deno.env.delete("KILN_ENGINE_TEST");
  }
});
