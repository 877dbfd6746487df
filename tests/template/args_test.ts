/** Command-line flags: Packer spellings, --long spellings, order, booleans, errors. */
import { assertEquals, assertThrows } from "./assert.ts";
import {
  ArgsError,
  type FlagSpecs,
  parseCommandArgs,
  TEMPLATE_INPUT_FLAGS,
  templateInputsFrom,
} from "../../cli/args.ts";

const specs: FlagSpecs = {
  ...TEMPLATE_INPUT_FLAGS,
  force: { type: "boolean" },
  color: { type: "boolean" },
  "on-error": { type: "string" },
  "parallel-builds": { type: "string" },
};

Deno.test("Packer's single-dash spelling and --long spelling parse the same", () => {
  const packer = parseCommandArgs(
    ["-var", "a=1", "-var-file=f.json", "-only=x,y", "-force", "-on-error=abort", "t.json"],
    specs,
  );
  const long = parseCommandArgs(
    [
      "--var",
      "a=1",
      "--var-file",
      "f.json",
      "--only",
      "x,y",
      "--force",
      "--on-error",
      "abort",
      "t.json",
    ],
    specs,
  );
  assertEquals(packer.values, long.values);
  assertEquals(packer.positionals, ["t.json"]);
  assertEquals(packer.values["on-error"], "abort");
});

Deno.test("-var and -var-file keep their interleaved order; -only/-except split on commas", () => {
  const parsed = parseCommandArgs(
    [
      "-var",
      "a=1",
      "-var-file=one.json",
      "--var=b=x=y",
      "-var-file",
      "two.json",
      "-only=a,b",
      "-only",
      "c",
      "t",
    ],
    specs,
  );
  assertEquals(templateInputsFrom(parsed), {
    vars: [
      { kind: "var", name: "a", value: "1" },
      { kind: "file", path: "one.json" },
      { kind: "var", name: "b", value: "x=y" },
      { kind: "file", path: "two.json" },
    ],
    only: ["a", "b", "c"],
    except: undefined,
  });
});

Deno.test("booleans accept Go's -flag=false; the last occurrence wins", () => {
  assertEquals(parseCommandArgs(["-color=false"], specs).values.color, false);
  assertEquals(parseCommandArgs(["-color=false", "-color"], specs).values.color, true);
  assertEquals(parseCommandArgs(["-color", "--color=0"], specs).values.color, false);
  assertThrows(() => parseCommandArgs(["-color=maybe"], specs), ArgsError);
});

Deno.test("bad usage is an ArgsError with Packer's wording", () => {
  assertThrows(() => parseCommandArgs(["-bogus"], specs), /flag provided but not defined: -bogus/);
  assertThrows(() => parseCommandArgs(["-var"], specs), /flag needs an argument: -var/);
  assertThrows(
    () => templateInputsFrom(parseCommandArgs(["-var", "novalue"], specs)),
    /No '=' value in arg: novalue/,
  );
});

Deno.test("arguments after -- are positionals even when they look like flags", () => {
  assertEquals(parseCommandArgs(["--", "-weird.json"], specs).positionals, ["-weird.json"]);
});

Deno.test("a lone - is a positional (stdin) and flags after it still parse", () => {
  const parsed = parseCommandArgs(["-", "-only=a"], specs);
  assertEquals(parsed.positionals, ["-"]);
  assertEquals(parsed.values.only, ["a"]);
});
