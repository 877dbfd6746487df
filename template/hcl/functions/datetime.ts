/**
 * Date and time functions: timestamp formatdate timeadd legacy_isotime
 * legacy_strftime. Timestamps are RFC 3339 strings; a time keeps the UTC offset it was written with, so
 * `timeadd("2017-11-22T00:00:00+01:00", "-1s")` stays in +01:00.
 */
import { parseDuration } from "../../duration.ts";
import { formatGoTime, formatStrftime } from "../../time_format.ts";
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, str } from "./args.ts";

/** A point in time and the offset (minutes east of UTC) to show it in. */
interface ZonedTime {
  /** Milliseconds since the epoch (UTC). */
  ms: number;
  offset: number;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp as Go's time.Parse(time.RFC3339) accepts it. */
export function parseRfc3339(s: string, index: number, param: string): ZonedTime {
  const m = RFC3339.exec(s);
  const bad = (why: string): never => {
    throw new ValueError(
      `Invalid value for "${param}" parameter: not a valid RFC3339 timestamp: ${why}`,
      index,
    );
  };
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) bad("missing required time introducer 'T'");
    bad(`cannot parse ${JSON.stringify(s)}`);
  }
  const [y, mo, d, h, mi, sec] = m!.slice(1, 7).map(Number);
  const frac = m![7] ? Number(m![7]) * 1000 : 0;
  if (mo < 1 || mo > 12) bad("month out of range");
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > daysInMonth) bad("day out of range");
  if (h > 23 || mi > 59 || sec > 59) bad("time out of range");
  const offset = m![8] ? 0 : (m![9] === "-" ? -1 : 1) * (Number(m![10]) * 60 + Number(m![11]));
  // setUTCFullYear, because Date.UTC reads years 0-99 as 1900-1999.
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d);
  wall.setUTCHours(h, mi, sec, 0);
  return { ms: wall.getTime() + frac - offset * 60_000, offset };
}

/** The wall-clock fields of a zoned time. */
function fields(t: ZonedTime): Date {
  return new Date(Math.floor(t.ms / 1000) * 1000 + t.offset * 60_000);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function offsetText(offset: number, colon: boolean): string {
  const sign = offset < 0 ? "-" : "+";
  const a = Math.abs(offset);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ":" : ""}${pad(a % 60)}`;
}

/** Formats as RFC 3339 without fractional seconds ("Z" for UTC), as Go's time.RFC3339 does. */
export function formatRfc3339(t: ZonedTime): string {
  const f = fields(t);
  const date = `${pad(f.getUTCFullYear(), 4)}-${pad(f.getUTCMonth() + 1)}-${pad(f.getUTCDate())}`;
  const time = `${pad(f.getUTCHours())}:${pad(f.getUTCMinutes())}:${pad(f.getUTCSeconds())}`;
  return `${date}T${time}${t.offset === 0 ? "Z" : offsetText(t.offset, true)}`;
}

const MONTHS = [
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
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function verb(token: string, t: ZonedTime): string | undefined {
  const f = fields(t);
  const h = f.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const table: Record<string, () => string> = {
    YYYY: () => pad(f.getUTCFullYear(), 4),
    YY: () => pad(f.getUTCFullYear() % 100),
    MMMM: () => MONTHS[f.getUTCMonth()],
    MMM: () => MONTHS[f.getUTCMonth()].slice(0, 3),
    MM: () => pad(f.getUTCMonth() + 1),
    M: () => String(f.getUTCMonth() + 1),
    DD: () => pad(f.getUTCDate()),
    D: () => String(f.getUTCDate()),
    EEEE: () => DAYS[f.getUTCDay()],
    EEE: () => DAYS[f.getUTCDay()].slice(0, 3),
    hh: () => pad(h),
    h: () => String(h),
    HH: () => pad(h12),
    H: () => String(h12),
    AA: () => (h < 12 ? "AM" : "PM"),
    aa: () => (h < 12 ? "am" : "pm"),
    mm: () => pad(f.getUTCMinutes()),
    m: () => String(f.getUTCMinutes()),
    ss: () => pad(f.getUTCSeconds()),
    s: () => String(f.getUTCSeconds()),
    ZZZZZ: () => offsetText(t.offset, true),
    ZZZZ: () => offsetText(t.offset, false),
    ZZZ: () => (t.offset === 0 ? "UTC" : offsetText(t.offset, false)),
    Z: () => (t.offset === 0 ? "Z" : offsetText(t.offset, true)),
  };
  return table[token]?.();
}

/** Renders `spec` (formatdate's language) for a time. */
export function formatDate(spec: string, t: ZonedTime): string {
  let out = "";
  let i = 0;
  while (i < spec.length) {
    const c = spec[i];
    if (c === "'") {
      // A quoted literal; '' inside (or alone) is one quote.
      let j = i + 1;
      let lit = "";
      for (;;) {
        if (j >= spec.length) {
          throw new ValueError(`Invalid value for "format" parameter: unterminated literal '`, 0);
        }
        if (spec[j] === "'") {
          if (spec[j + 1] === "'") (lit += "'", j += 2);
          else break;
        } else lit += spec[j++];
      }
      out += i + 1 === j ? "'" : lit;
      i = j + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (spec[j] === c) j++;
      const token = spec.slice(i, j);
      const text = verb(token, t);
      if (text === undefined) {
        throw new ValueError(
          `Invalid value for "format" parameter: invalid date format verb ${JSON.stringify(token)}`,
          0,
        );
      }
      out += text;
      i = j;
    } else {
      (out += c, i++);
    }
  }
  return out;
}

function timeadd(a: Value[]): string {
  const t = parseRfc3339(str(a, 0, "timestamp"), 0, "timestamp");
  const text = str(a, 1, "duration");
  const ms = parseDuration(text);
  if (ms === undefined) {
    const unit = /^[-+]?[\d.]+([^\d.]+)/.exec(text)?.[1];
    const known = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"];
    const why = unit && !known.includes(unit)
      ? `unknown unit ${JSON.stringify(unit)} in duration`
      : "invalid duration";
    throw new ValueError(`time: ${why} ${JSON.stringify(text)}`, 1);
  }
  return formatRfc3339({ ms: t.ms + ms, offset: t.offset });
}

/** The date and time family. */
export const DATETIME_FUNCTIONS: Record<string, HclFunction> = {
  timestamp: fn([], (_a, ctx) => formatRfc3339({ ms: ctx.now.getTime(), offset: 0 })),
  formatdate: fn(["format", "time"], (a) => {
    const spec = str(a, 0, "format");
    return formatDate(spec, parseRfc3339(str(a, 1, "time"), 1, "time"));
  }),
  timeadd: fn(["timestamp", "duration"], timeadd),
  // Packer's bridges from JSON's isotime/strftime (what hcl2_upgrade writes):
  // the run's clock, in UTC, with a Go layout or a C strftime format.
  legacy_isotime: fn(["format"], (a, ctx) => formatGoTime(ctx.now, str(a, 0, "format"))),
  legacy_strftime: fn(["format"], (a, ctx) => formatStrftime(ctx.now, str(a, 0, "format"))),
};
