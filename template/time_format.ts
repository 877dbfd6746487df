/**
 * Time formatting the way Packer's template functions do it: `isotime` takes a
 * Go reference-time layout ("2006-01-02T15:04:05Z07:00"), `strftime` a C
 * format translated through jehiah/go-strftime's table. Times are always UTC,
 * as in Packer, so zone elements render as UTC / +0000 / Z.
 */

const longMonths = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Go's RFC3339 layout, isotime's default. */
export const RFC3339 = "2006-01-02T15:04:05Z07:00";

const pad = (n: number, width: number, fill = "0") => String(n).padStart(width, fill);

function yearDay(t: Date): number {
  const start = Date.UTC(t.getUTCFullYear(), 0, 1);
  return Math.floor((t.getTime() - start) / 86_400_000) + 1;
}

/** Renders one standard chunk of a Go layout. */
function renderChunk(chunk: string, t: Date): string {
  const hour = t.getUTCHours();
  const hour12 = hour % 12 === 0 ? 12 : hour % 12;
  switch (chunk) {
    case "January":
      return longMonths[t.getUTCMonth()];
    case "Jan":
      return longMonths[t.getUTCMonth()].slice(0, 3);
    case "1":
      return String(t.getUTCMonth() + 1);
    case "01":
      return pad(t.getUTCMonth() + 1, 2);
    case "Monday":
      return longDays[t.getUTCDay()];
    case "Mon":
      return longDays[t.getUTCDay()].slice(0, 3);
    case "2":
      return String(t.getUTCDate());
    case "_2":
      return pad(t.getUTCDate(), 2, " ");
    case "02":
      return pad(t.getUTCDate(), 2);
    case "__2":
      return pad(yearDay(t), 3, " ");
    case "002":
      return pad(yearDay(t), 3);
    case "15":
      return pad(hour, 2);
    case "3":
      return String(hour12);
    case "03":
      return pad(hour12, 2);
    case "4":
      return String(t.getUTCMinutes());
    case "04":
      return pad(t.getUTCMinutes(), 2);
    case "5":
      return String(t.getUTCSeconds());
    case "05":
      return pad(t.getUTCSeconds(), 2);
    case "2006":
      return pad(t.getUTCFullYear(), 4);
    case "06":
      return pad(t.getUTCFullYear() % 100, 2);
    case "PM":
      return hour >= 12 ? "PM" : "AM";
    case "pm":
      return hour >= 12 ? "pm" : "am";
    case "MST":
      return "UTC";
    case "Z070000":
    case "Z0700":
    case "Z07:00:00":
    case "Z07:00":
    case "Z07":
      return "Z";
    case "-070000":
      return "+000000";
    case "-0700":
      return "+0000";
    case "-07:00:00":
      return "+00:00:00";
    case "-07:00":
      return "+00:00";
    case "-07":
      return "+00";
  }
  // Fractional seconds: ".000" keeps the width, ".999" trims trailing zeros.
  const sep = chunk[0];
  const digits = chunk.length - 1;
  const ns = String(t.getUTCMilliseconds()).padStart(3, "0") + "000000";
  const frac = ns.slice(0, digits).padEnd(digits, "0");
  if (chunk[1] === "0") return sep + frac;
  const trimmed = frac.replace(/0+$/, "");
  return trimmed === "" ? "" : sep + trimmed;
}

const zoneChunks = [
  "Z070000",
  "Z07:00:00",
  "Z0700",
  "Z07:00",
  "Z07",
  "-070000",
  "-07:00:00",
  "-0700",
  "-07:00",
  "-07",
];

/** Finds the standard chunk starting at `i`, following Go's nextStdChunk rules. */
function chunkAt(layout: string, i: number): string | undefined {
  const rest = layout.slice(i);
  const starts = (s: string) => rest.startsWith(s);
  const isDigit = (j: number) => j < layout.length && layout[j] >= "0" && layout[j] <= "9";
  switch (layout[i]) {
    case "J":
      if (starts("January")) return "January";
      if (starts("Jan")) return "Jan";
      return undefined;
    case "M":
      if (starts("Monday")) return "Monday";
      if (starts("Mon")) return "Mon";
      if (starts("MST")) return "MST";
      return undefined;
    case "0":
      if (starts("002")) return "002";
      if (/^0[1-6]/.test(rest)) return rest.slice(0, 2);
      return undefined;
    case "1":
      return starts("15") ? "15" : "1";
    case "2":
      return starts("2006") ? "2006" : "2";
    case "_":
      if (starts("_2") && !starts("_2006")) return "_2";
      if (starts("__2")) return "__2";
      return undefined;
    case "3":
    case "4":
    case "5":
      return layout[i];
    case "P":
      return starts("PM") ? "PM" : undefined;
    case "p":
      return starts("pm") ? "pm" : undefined;
    case "-":
    case "Z":
      return zoneChunks.find((z) => z[0] === layout[i] && starts(z));
    case ".":
    case ",": {
      const ch = layout[i + 1];
      if (ch !== "0" && ch !== "9") return undefined;
      let j = i + 1;
      while (j < layout.length && layout[j] === ch) j++;
      return isDigit(j) ? undefined : layout.slice(i, j);
    }
  }
  return undefined;
}

/**
 * Formats `t` (as UTC) with a Go reference-time layout, like Go's
 * `time.Time.Format`; `check` sees the length as the result grows.
 */
export function formatGoTime(
  t: Date,
  layout: string,
  check?: (length: number) => void,
): string {
  let out = "";
  let i = 0;
  while (i < layout.length) {
    check?.(out.length);
    const chunk = chunkAt(layout, i);
    if (chunk === undefined) {
      out += layout[i];
      i++;
      continue;
    }
    out += renderChunk(chunk, t);
    i += chunk.length;
  }
  return out;
}

/** jehiah/go-strftime's conversion table: C directive → Go layout. */
const strftimeTable: Record<string, string> = {
  B: "January",
  b: "Jan",
  m: "01",
  A: "Monday",
  a: "Mon",
  d: "02",
  H: "15",
  I: "03",
  M: "04",
  S: "05",
  Y: "2006",
  y: "06",
  p: "PM",
  Z: "MST",
  z: "-0700",
  L: ".000",
};

/**
 * Formats `t` (as UTC) with a C strftime format; unknown directives stay
 * literal, as in Packer. `check` sees the length as the result grows.
 */
export function formatStrftime(
  t: Date,
  format: string,
  check?: (length: number) => void,
): string {
  let out = "";
  for (let i = 0; i < format.length; i++) {
    check?.(out.length);
    const c = format[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    if (i + 1 >= format.length) {
      out += "%";
      break;
    }
    const d = format[++i];
    if (d === "%") out += "%";
    else if (Object.hasOwn(strftimeTable, d)) out += formatGoTime(t, strftimeTable[d]);
    else out += "%" + d;
  }
  return out;
}
