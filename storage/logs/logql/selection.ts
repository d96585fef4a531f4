/**
 * What a `LogSelection` means for one record, written out: the reference that store
 * implementations and their tests can check themselves against, and what an in-memory store
 * runs.
 */
import type { LineFilter, LogSelection, StoredLogRecord } from '../interface.js';
import { compileLineFilter } from './line-filter.js';

/** The value a selection matcher reads: stream labels and `level`; any other label is "". */
export function selectionLabel(r: StoredLogRecord, name: string): string {
  switch (name) {
    case 'namespace':
      return r.namespace;
    case 'pod':
      return r.pod;
    case 'container':
      return r.container;
    case 'node':
      return r.node;
    case 'stream':
      return r.stream;
    case 'level':
      return r.level;
    default:
      return '';
  }
}

/** A predicate for a selection, with its line filters compiled once. */
export function compileSelection(sel: LogSelection): (r: StoredLogRecord) => boolean {
  const filters = sel.lineFilters.map((f: LineFilter) => compileLineFilter(f));
  return (r) => {
    if (r.timeNs < sel.startNs || r.timeNs >= sel.endNs) return false;
    for (const m of sel.matchers) if (!m.matches(selectionLabel(r, m.name))) return false;
    for (const f of filters) if (!f(r.message)) return false;
    return true;
  };
}
