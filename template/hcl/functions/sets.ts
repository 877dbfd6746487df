/**
 * Set functions: distinct setintersection setproduct setsubtract setunion.
 *
 * Sets are arrays without duplicates. Their order is cty's for primitive
 * elements (numbers ascending, strings lexically, false before true), and
 * by structure for the rest; elements of all arguments are first unified
 * to one type, so setunion(["b"], [1]) is ["1", "b"] as in Packer.
 */
import { toSet, unifyAll, valueKey } from "../types.ts";
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, list, variadic } from "./args.ts";

/** The arguments as sets, their elements unified across all of them. */
function sets(a: Value[], name: string): Value[][] {
  const lists = a.map((_, i) => list(a, i, name));
  const flat = unifyAll(lists.flat());
  let at = 0;
  return lists.map((l) => toSet(l.map(() => flat[at++])));
}

function setOp(keep: (inAll: boolean[]) => boolean) {
  return (a: Value[]): Value[] => {
    const [first, ...others] = sets(a, "sets");
    const keys = others.map((s) => new Set(s.map(valueKey)));
    const union = toSet([first, ...others].flat());
    return union.filter((v) => {
      const k = valueKey(v);
      return keep([first.some((x) => valueKey(x) === k), ...keys.map((s) => s.has(k))]);
    });
  };
}

function product(a: Value[]): Value[] {
  if (a.length < 2) throw new ValueError("at least two arguments are required");
  const lists = a.map((_, i) => list(a, i, "sets"));
  return lists.reduce<Value[][]>(
    (acc, l) => acc.flatMap((prefix) => l.map((v) => [...prefix, v])),
    [[]],
  );
}

/** The set family. */
export const SET_FUNCTIONS: Record<string, HclFunction> = {
  distinct: fn(["list"], (a) => {
    const items = unifyAll(list(a, 0, "list"));
    const seen = new Set<string>();
    return items.filter((v) => !seen.has(valueKey(v)) && !!seen.add(valueKey(v)));
  }),
  setintersection: variadic(["first_set"], "other_sets", setOp((inAll) => inAll.every(Boolean))),
  setsubtract: fn(["a", "b"], setOp(([inA, inB]) => inA && !inB)),
  setunion: variadic(["first_set"], "other_sets", setOp(() => true)),
  setproduct: variadic([], "sets", product),
};
