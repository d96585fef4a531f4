/**
 * Binary operators: scalar/scalar, vector/scalar (series by series, labels unchanged) and
 * vector/vector with label matching (`on`, `ignoring`, `group_left/right`) and set operators.
 * Match signatures are computed once per input series, not per step.
 */
import type { Labels } from '../../model/labels.js';
import type { BinaryExpr, BinaryOp, VectorMatching } from '../parser/index.js';
import type { Evaluator } from './evaluator.js';
import { dropLabels, dropMetadata, keepLabels, labelsString, setLabel, signatureOn, signatureWithout } from './labels-util.js';
import { labelsKey } from '../../model/labels.js';
import type { El, EvalValue, StepSeries } from './types.js';
import { refillAt, refillEnd } from './refill.js';
import { groupTable } from './group-table.js';

const ARITHMETIC = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^', 'atan2']);
const COMPARISON = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);

/** Go's `math.Mod`: result has the sign of the dividend (same as JavaScript's `%`). */
function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      return NaN;
  }
}

/** Go's `math.Pow` differs from `**` for 1^NaN and (-1)^±Inf (both 1 in Go). */
function goPow(l: number, r: number): number {
  if (l === 1) return 1;
  if (r === 0) return 1;
  if (l === -1 && (r === Infinity || r === -Infinity)) return 1;
  return Math.pow(l, r);
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      return false;
  }
}

export async function evalBinary(ev: Evaluator, e: BinaryExpr): Promise<EvalValue> {
  const lhs = await ev.eval(e.lhs);
  const rhs = await ev.eval(e.rhs);
  const op = e.op;
  if (op === '</' || op === '>/') {
    // Histogram trimming: no result for float samples.
    ev.q.annos.info(`incompatible sample types encountered for binary operator ${JSON.stringify(op)}: float ${op} float`, e.posRange);
    return { kind: 'vector', series: [] };
  }
  if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
    const out = new Float64Array(ev.numSteps);
    for (let i = 0; i < out.length; i++) {
      const l = lhs.values[i]!;
      const r = rhs.values[i]!;
      out[i] = COMPARISON.has(op) ? (compare(op, l, r) ? 1 : 0) : arith(op, l, r);
    }
    return { kind: 'scalar', values: out };
  }
  if (lhs.kind === 'vector' && rhs.kind === 'scalar') return { kind: 'vector', series: vectorScalar(ev, op, lhs.series, rhs.values, false, e.returnBool) };
  if (lhs.kind === 'scalar' && rhs.kind === 'vector') return { kind: 'vector', series: vectorScalar(ev, op, rhs.series, lhs.values, true, e.returnBool) };
  if (lhs.kind === 'vector' && rhs.kind === 'vector') {
    const matching = e.vectorMatching ?? { card: 'one-to-one', matchingLabels: [], on: false, include: [] };
    return { kind: 'vector', series: await vectorVector(ev, e, op, lhs.series, rhs.series, matching) };
  }
  ev.error(`binary operator ${op} on unsupported operand types`);
}

function vectorScalar(ev: Evaluator, op: BinaryOp, series: StepSeries[], scalar: Float64Array, swap: boolean, returnBool: boolean): StepSeries[] {
  const out: StepSeries[] = [];
  const isCmp = COMPARISON.has(op);
  const dropName = ARITHMETIC.has(op) || returnBool;
  for (const s of series) {
    ev.tick();
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < s.ts.length; i++) {
      const t = s.ts[i]!;
      const sv = scalar[Math.round((t - ev.start) / ev.interval)]!;
      const v = s.vs[i]!;
      const l = swap ? sv : v;
      const r = swap ? v : sv;
      if (isCmp) {
        const keep = compare(op, l, r);
        if (returnBool) {
          ts.push(t);
          vs.push(keep ? 1 : 0);
        } else if (keep) {
          ts.push(t);
          vs.push(v);
        }
      } else {
        ts.push(t);
        vs.push(arith(op, l, r));
      }
    }
    if (ts.length > 0) out.push({ labels: s.labels, ts, vs, dropName: dropName || s.dropName });
  }
  return out;
}

/** `matchLabels` as Prometheus's `Labels.MatchLabels`: keep the `on` labels, or drop the ignored ones and the name. */
function matchedLabels(ls: Labels, m: VectorMatching): Labels {
  if (m.on) return keepLabels(ls, new Set(m.matchingLabels));
  return dropLabels(ls, new Set([...m.matchingLabels, '__name__']));
}

function vectorVector(ev: Evaluator, e: BinaryExpr, op: BinaryOp, lhs: StepSeries[], rhs: StepSeries[], m: VectorMatching): Promise<StepSeries[]> {
  const names = new Set(m.matchingLabels);
  const sigOf = m.on ? (ls: Labels) => signatureOn(ls, names) : (ls: Labels) => signatureWithout(ls, names);
  // Dense match-group numbers; under `on (…)` found by label values, without a signature string
  // per series (see `group-table.ts`).
  const table = groupTable(m.matchingLabels, !m.on, sigOf);
  let nsig = 0;
  const ordinal = (ls: Labels): number => {
    const o = table.groupOf(ls, nsig);
    if (o === nsig) nsig++;
    return o;
  };
  const lsig = lhs.map((s) => ordinal(s.labels));
  const rsig = rhs.map((s) => ordinal(s.labels));

  if (op === 'and' || op === 'or' || op === 'unless') {
    const present = new Uint8Array(nsig);
    return ev.rangeEval([lhs, rhs], (v) => {
      const l = v[0]!;
      const r = v[1]!;
      if (op === 'and') {
        if (l.length === 0 || r.length === 0) return [];
        present.fill(0);
        for (const el of r) present[rsig[el.sid]!] = 1;
        return l.filter((el) => present[lsig[el.sid]!] === 1);
      }
      if (op === 'or') {
        if (l.length === 0) return [...r];
        if (r.length === 0) return [...l];
        present.fill(0);
        for (const el of l) present[lsig[el.sid]!] = 1;
        const out = [...l];
        for (const el of r) if (!present[rsig[el.sid]!]) out.push(el);
        return out;
      }
      if (l.length === 0 || r.length === 0) return [...l];
      present.fill(0);
      for (const el of r) present[rsig[el.sid]!] = 1;
      return l.filter((el) => !present[lsig[el.sid]!]);
    });
  }

  const isCmp = COMPARISON.has(op);
  const changesSchema = ARITHMETIC.has(op);
  const oneToMany = m.card === 'one-to-many';
  interface Result {
    labels: Labels;
    /**
     * Signature and labels key, for the many-to-one uniqueness check (computed once per pair);
     * '' where no check is needed.
     */
    key: string;
  }
  // A left series usually meets the same right series at every step (and an instant query has
  // one step), so the result labels of its last pair are all that is kept.
  const lastPair: ({ r: number; res: Result } | undefined)[] = [];
  const resultFor = (ls: El, rs: El, sig: number): Result => {
    const last = lastPair[ls.sid];
    if (last && last.r === rs.sid) return last.res;
    const res = resultMetric(ls.labels, rs.labels, sig);
    lastPair[ls.sid] = { r: rs.sid, res };
    return res;
  };
  const resultMetric = (l: Labels, r: Labels, sig: number): Result => {
    let res = l;
    if (changesSchema) res = dropMetadata(res);
    if (m.card === 'one-to-one') res = m.on ? keepLabels(res, names) : dropLabels(res, names);
    for (const ln of m.include) {
      let v = '';
      for (const x of r) if (x.name === ln) v = x.value;
      res = setLabel(res, ln, v);
    }
    // Many-to-one results with the "many" side's labels unchanged are unique at a step, as the
    // series of that side are: the check could never fail, so its key is not built.
    const key = m.card === 'one-to-one' || res === l ? '' : `${sig}\u0001${labelsKey(res)}`;
    return { labels: res, key };
  };

  const rightIdx = new Int32Array(nsig);
  const matched = new Uint8Array(nsig);
  // For many-to-one matching: the step at which a (signature, result labels) pair was last produced.
  const insertedAt = new Map<string, number>();
  // Output elements are consumed by rangeEval before the next step, so they are recycled.
  const pool: El[] = [];
  const out: El[] = [];
  return ev.rangeEval([lhs, rhs], (v, ts, step) => {
    let k = 0;
    let l = v[0]!;
    let r = v[1]!;
    if (l.length === 0 || r.length === 0) {
      refillEnd(out, 0);
      return out;
    }
    let lsigs = lsig;
    let rsigs = rsig;
    if (oneToMany) {
      [l, r] = [r, l];
      [lsigs, rsigs] = [rsigs, lsigs];
    }
    rightIdx.fill(-1);
    for (let i = 0; i < r.length; i++) {
      const rs = r[i]!;
      const sig = rsigs[rs.sid]!;
      const prev = rightIdx[sig]!;
      if (prev >= 0) {
        const dup = r[prev]!;
        let d1 = labelsString(rs.labels);
        let d2 = labelsString(dup.labels);
        if (d1 > d2) [d1, d2] = [d2, d1];
        ev.error(
          `found duplicate series for the match group ${labelsString(matchedLabels(rs.labels, m))} on the ${oneToMany ? 'left' : 'right'} hand-side of the operation: [${d1}, ${d2}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightIdx[sig] = i;
    }
    matched.fill(0);
    const oneToOne = m.card === 'one-to-one';
    for (const ls of l) {
      const sig = lsigs[ls.sid]!;
      const ri = rightIdx[sig]!;
      if (ri < 0) continue;
      const rs = r[ri]!;
      let fl = ls.v;
      let fr = rs.v;
      if (oneToMany) [fl, fr] = [fr, fl];
      let value: number;
      let keep = true;
      if (isCmp) {
        keep = compare(op, fl, fr);
        value = fl;
      } else value = arith(op, fl, fr);
      if (e.returnBool) {
        value = keep ? 1 : 0;
      }
      const metric = resultFor(ls, rs, sig);
      if (oneToOne) {
        if (matched[sig]) ev.error('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matched[sig] = 1;
      } else if (metric.key !== '') {
        if (insertedAt.get(metric.key) === step) ev.error('multiple matches for labels: grouping labels must ensure unique matches');
        insertedAt.set(metric.key, step);
      }
      if (!keep && !e.returnBool) continue;
      let el = pool[k];
      if (!el) {
        el = { labels: metric.labels, v: 0, t: 0, dropName: false, sid: 0 };
        pool.push(el);
      }
      el.labels = metric.labels;
      el.v = value;
      el.t = ts;
      el.dropName = e.returnBool;
      refillAt(out, k++, el);
    }
    refillEnd(out, k);
    return out;
  });
}
