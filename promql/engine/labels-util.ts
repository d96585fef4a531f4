/**
 * Label-set helpers the engine needs beyond `model/labels.ts`: Prometheus's `String()` form used
 * in error messages, and match signatures for vector matching and grouping.
 */
import { isValidLabelName, type Label, type Labels } from '../../model/labels.js';
import { goQuote } from '../parser/index.js';

/** Prometheus's `labels.Labels.String()`: `{__name__="x", a="b"}`, names quoted only when needed. */
export function labelsString(ls: Labels): string {
  const parts: string[] = [];
  for (const l of ls) parts.push(`${isValidLabelName(l.name) ? l.name : goQuote(l.name)}=${goQuote(l.value)}`);
  return `{${parts.join(', ')}}`;
}

const SEP = '\xff';

/** Signature over the listed labels only (`on`, `by`). */
export function signatureOn(ls: Labels, names: ReadonlySet<string>): string {
  let s = '';
  for (const l of ls) if (names.has(l.name)) s += l.name + SEP + l.value + SEP;
  return s;
}

/** Signature over all labels except the listed ones and `__name__` (`ignoring`, `without`). */
export function signatureWithout(ls: Labels, names: ReadonlySet<string>): string {
  let s = '';
  for (const l of ls) if (l.name !== '__name__' && !names.has(l.name)) s += l.name + SEP + l.value + SEP;
  return s;
}

export function keepLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => names.has(l.name));
}

export function dropLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => !names.has(l.name));
}

/**
 * Whether `n` is one of the metadata labels Prometheus drops together with the metric name
 * (`__name__`, `__type__`, `__unit__`). Compared directly rather than through a set: it runs for
 * every label of every series a range function makes.
 */
function isMetadata(n: string): boolean {
  // All three start with "__"; most names do not, and fail at the first character.
  return n.charCodeAt(0) === 95 && (n === '__name__' || n === '__type__' || n === '__unit__');
}

/**
 * `ls` without the metadata labels. Nothing is remembered between calls: a memo keyed by the
 * storage's label arrays would outlive the query and make a repeated query cheaper than its first.
 */
export function dropMetadata(ls: Labels): Labels {
  for (let i = 0; i < ls.length; i++) {
    if (isMetadata(ls[i]!.name)) return ls.filter((x) => !isMetadata(x.name));
  }
  return ls;
}

/** Whether `__name__` is the only metadata label of `ls` (so `dropMetadata` would drop just it). */
export function onlyNameMetadata(ls: Labels): boolean {
  let name = false;
  for (let i = 0; i < ls.length; i++) {
    const n = ls[i]!.name;
    if (n === '__name__') name = true;
    else if (isMetadata(n)) return false;
  }
  return name;
}

/** Returns `ls` with `name` set to `value` ('' deletes), keeping the sort order. */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let done = false;
  for (const l of ls) {
    if (!done && l.name >= name) {
      done = true;
      if (value !== '') out.push({ name, value });
      if (l.name === name) continue;
    }
    out.push(l);
  }
  if (!done && value !== '') out.push({ name, value });
  return out;
}
