/**
 * Path globs for `extra_globs`: log files that containers write into hostPath or emptyDir
 * volumes. Node 20 has no `fs.glob`, and the collector needs only the shell's basics:
 *
 * - `*` any run of characters within one path segment, `?` one character;
 * - `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` one character of (or not of) a class;
 * - `**` as a whole segment: zero or more directories (symbolic links to directories are not
 *   followed there, so a link cycle cannot make a scan endless);
 * - `\x` the character `x` literally.
 *
 * Wildcards do not match a leading `.` of a name, as in the shell, so editor and rotation
 * temporaries (`.app.log.swp`) stay out.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export class GlobError extends Error {
  constructor(
    readonly pattern: string,
    /** 0-based index of the offending character in the pattern. */
    readonly position: number,
    reason: string,
  ) {
    super(`invalid glob ${JSON.stringify(pattern)} at position ${position}: ${reason}`);
    this.name = 'GlobError';
  }
}

type Segment = { readonly kind: 'literal'; readonly name: string } | { readonly kind: 'match'; readonly re: RegExp } | { readonly kind: 'globstar' };

export interface CompiledGlob {
  readonly pattern: string;
  /** The directory before the first segment with a wildcard: where expansion starts. */
  readonly base: string;
  readonly segments: readonly Segment[];
}

const MAGIC = new Set(['*', '?', '[', '\\']);

/** Compiles a glob; relative patterns are taken relative to the working directory. */
export function compileGlob(pattern: string): CompiledGlob {
  if (pattern.length === 0) throw new GlobError(pattern, 0, 'empty pattern');
  if (pattern.includes('\u0000')) throw new GlobError(pattern, pattern.indexOf('\u0000'), 'NUL character');
  const absolute = path.isAbsolute(pattern);
  const parts = pattern.split('/');
  const segments: Segment[] = [];
  const baseParts: string[] = [];
  let at = 0;
  let magicSeen = false;
  for (const part of parts) {
    const start = at;
    at += part.length + 1;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (magicSeen) throw new GlobError(pattern, start, '`..` after a wildcard');
      baseParts.push(part);
      continue;
    }
    if (part === '**') {
      magicSeen = true;
      if (segments.at(-1)?.kind !== 'globstar') segments.push({ kind: 'globstar' });
      continue;
    }
    if (![...part].some((c) => MAGIC.has(c))) {
      if (magicSeen) segments.push({ kind: 'literal', name: part });
      else baseParts.push(part);
      continue;
    }
    const { literal, re } = segmentRegExp(pattern, part, start);
    if (literal !== undefined) {
      if (magicSeen) segments.push({ kind: 'literal', name: literal });
      else baseParts.push(literal);
      continue;
    }
    magicSeen = true;
    segments.push({ kind: 'match', re });
  }
  const joined = baseParts.join('/');
  const base = absolute ? path.resolve('/', joined) : path.resolve(joined);
  if (segments.length === 0) {
    // No wildcard at all: the pattern names one file; its directory is the base.
    const file = base;
    return { pattern, base: path.dirname(file), segments: [{ kind: 'literal', name: path.basename(file) }] };
  }
  return { pattern, base, segments };
}

/** Translates one segment; `literal` is set when it had only escapes and no wildcard. */
function segmentRegExp(pattern: string, part: string, offset: number): { literal?: string; re: RegExp } {
  let src = '';
  let literal = '';
  let wild = false;
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '\\') {
      const next = part[i + 1];
      if (next === undefined) throw new GlobError(pattern, offset + i, 'trailing backslash');
      src += escapeRe(next);
      literal += next;
      i++;
    } else if (c === '*') {
      wild = true;
      while (part[i + 1] === '*') i++;
      src += '[^/]*';
    } else if (c === '?') {
      wild = true;
      src += '[^/]';
    } else if (c === '[') {
      wild = true;
      const end = classEnd(part, i);
      if (end < 0) throw new GlobError(pattern, offset + i, 'unterminated character class');
      src += classRe(pattern, part.slice(i + 1, end), offset + i + 1);
      i = end;
    } else {
      src += escapeRe(c);
      literal += c;
    }
  }
  if (!wild) return { literal, re: new RegExp(`^${src}$`, 'u') };
  // A leading wildcard or class does not match a leading dot.
  const noDot = part[0] === '*' || part[0] === '?' || part[0] === '[' ? '(?!\\.)' : '';
  return { re: new RegExp(`^${noDot}${src}$`, 'u') };
}

/** Index of the `]` closing the class opened at `open`, or -1. A `]` right after `[`/`[!` is literal. */
function classEnd(part: string, open: number): number {
  let i = open + 1;
  if (part[i] === '!' || part[i] === '^') i++;
  if (part[i] === ']') i++;
  for (; i < part.length; i++) {
    if (part[i] === '\\') i++;
    else if (part[i] === ']') return i;
  }
  return -1;
}

function classRe(pattern: string, body: string, offset: number): string {
  let negate = false;
  let i = 0;
  if (body[0] === '!' || body[0] === '^') {
    negate = true;
    i = 1;
  }
  const chars = [...body.slice(i)];
  if (chars.length === 0) throw new GlobError(pattern, offset, 'empty character class');
  let out = '';
  for (let k = 0; k < chars.length; k++) {
    let c = chars[k]!;
    if (c === '\\' && k + 1 < chars.length) c = chars[++k]!;
    if (chars[k + 1] === '-' && k + 2 < chars.length) {
      let hi = chars[k + 2]!;
      let skip = 2;
      if (hi === '\\' && k + 3 < chars.length) {
        hi = chars[k + 3]!;
        skip = 3;
      }
      if (hi.codePointAt(0)! < c.codePointAt(0)!) throw new GlobError(pattern, offset, `range ${c}-${hi} out of order`);
      out += `${escapeClass(c)}-${escapeClass(hi)}`;
      k += skip;
      continue;
    }
    out += escapeClass(c);
  }
  return negate ? `[^/${out}]` : `[${out}]`;
}

function escapeRe(c: string): string {
  // Only syntax characters: the `u` flag rejects needless escapes such as `\-`.
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

/** Whether `name` (one path segment) matches a compiled segment. */
function segmentMatches(seg: Segment, name: string): boolean {
  return seg.kind === 'literal' ? seg.name === name : seg.kind === 'match' ? seg.re.test(name) : true;
}

/** Whether a path (relative to the glob's base, `/`-separated) matches the glob. */
export function globMatches(glob: CompiledGlob, relative: string): boolean {
  const names = relative.split('/').filter((n) => n !== '');
  const memo = new Map<string, boolean>();
  const go = (s: number, n: number): boolean => {
    const key = `${s},${n}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (s === glob.segments.length) r = n === names.length;
    else {
      const seg = glob.segments[s]!;
      if (seg.kind === 'globstar') {
        r = go(s + 1, n) || (n < names.length && !names[n]!.startsWith('.') && go(s, n + 1));
      } else r = n < names.length && segmentMatches(seg, names[n]!) && go(s + 1, n + 1);
    }
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

export interface ExpandOptions {
  /** Deepest directory level `**` descends to below the base. */
  readonly maxDepth?: number;
}

/**
 * Paths matching the glob, sorted. Unreadable or vanishing directories are skipped: a scan runs
 * again a moment later, and a pod being deleted mid-scan is normal.
 */
export async function expandGlob(glob: CompiledGlob, opts: ExpandOptions = {}): Promise<string[]> {
  const maxDepth = opts.maxDepth ?? 16;
  const out = new Set<string>();
  const visit = async (dir: string, s: number, depth: number): Promise<void> => {
    const seg = glob.segments[s];
    if (seg === undefined) return;
    const last = s === glob.segments.length - 1;
    if (seg.kind === 'globstar') {
      if (last) return; // `dir/**` alone names directories, not files
      await visit(dir, s + 1, depth);
      if (depth >= maxDepth) return;
      for (const e of await list(dir)) {
        if (e.isDirectory() && !e.name.startsWith('.')) await visit(path.join(dir, e.name), s, depth + 1);
      }
      return;
    }
    if (seg.kind === 'literal') {
      if (last) {
        const entries = await list(dir);
        if (entries.some((e) => e.name === seg.name && !e.isDirectory())) out.add(path.join(dir, seg.name));
      } else await visit(path.join(dir, seg.name), s + 1, depth + 1);
      return;
    }
    for (const e of await list(dir)) {
      if (!seg.re.test(e.name)) continue;
      if (last) {
        if (!e.isDirectory()) out.add(path.join(dir, e.name));
      } else if (e.isDirectory() || e.isSymbolicLink()) await visit(path.join(dir, e.name), s + 1, depth + 1);
    }
  };
  await visit(glob.base, 0, 0);
  return [...out].sort();
}

async function list(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
