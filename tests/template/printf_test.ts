/**
 * printf at the edges, against Packer 1.6.6's output (recorded with
 * `packer build` on a file builder): huge widths are Go's %!(NOVERB), %f
 * prints the float's exact digits rounded half to even at any precision,
 * zero padding goes after the sign, and any rune is a verb.
 */
import { assertEquals } from "./assert.ts";
import { renderString } from "../../template/engine.ts";

const render = (text: string) => renderString(text, { variables: {}, templateDir: "." });

Deno.test("printf: widths and precisions past Go's limit, exact %f digits", () => {
  assertEquals(
    render("{{ printf `%.120f|%099999999d|x` 0.1 1 }}"),
    "0.1000000000000000055511151231257827021181583404541015625" + "0".repeat(65) +
      "|%!(NOVERB)%!(EXTRA int=1)",
  );
  assertEquals(
    render("{{ printf `%.0f %.0f %.1f %f` 2.5 3.5 0.25 1e21 }}"),
    "2 4 0.2 1000000000000000000000.000000",
  );
  assertEquals(render("{{ printf `%20000000d|` 1 | len }}"), "25");
  assertEquals(render("{{ printf `%10000000d|` 1 | len }}"), "10000001");
});

Deno.test("printf: signs, padding and odd verbs as Go prints them", () => {
  assertEquals(
    render("{{ printf `%.2f %f %.3f %f` -1.005 0.0 123.4565 -0.0 }}"),
    "-1.00 0.000000 123.457 -0.000000",
  );
  assertEquals(
    render("{{ printf `%5.1f|%-8.2f|%08.3f|%05d` 3.14159 2.5 -1.5 -42 }}"),
    "  3.1|2.50    |-001.500|-0042",
  );
  assertEquals(
    render("{{ printf `%` }}|{{ printf `%!` }}|{{ printf `%d %d` 1 }}"),
    "%!(NOVERB)|%!!(MISSING)|1 %!d(MISSING)",
  );
  assertEquals(render('{{ printf `%x %X %q` `hi` `hi` "a\\nb" }}'), '6869 6869 "a\\nb"');
});

Deno.test("urlquery of a lone surrogate (a JSON \\ud800) is U+FFFD, not a crash", () => {
  assertEquals(
    renderString("{{ urlquery (user `x`) }}", { variables: { x: "a\ud800b" }, templateDir: "." }),
    "a%EF%BF%BDb",
  );
});
