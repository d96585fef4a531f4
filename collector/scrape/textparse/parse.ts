/** Parser construction and the collect-everything convenience used by tests and small callers. */

import { contentTypeFor } from './contenttype.js';
import { asciiInput, decodeInput } from './input.js';
import { OpenMetricsParser } from './openmetricsparse.js';
import { PromParser } from './promparse.js';
import type { ExpositionFormat, ParsedEntry, ParserOptions, TextInput, TextParser } from './types.js';

/** A pull parser for `input` in the given format. */
export function createParser(input: TextInput, format: ExpositionFormat, options: ParserOptions = {}): TextParser {
  if (format !== 'openmetrics' && typeof input !== 'string') {
    // An ASCII body (the usual case) needs no UTF-8 decoding and its bytes serve the scanner.
    const ascii = asciiInput(input);
    if (ascii !== null) return new PromParser(ascii);
  }
  const text = decodeInput(input);
  return format === 'openmetrics' ? new OpenMetricsParser(text, options) : new PromParser(text);
}

/**
 * Parses everything into an array. `contentType` is a format name or a `Content-Type` header
 * value (unknown types fall back to text 0.0.4). Throws `TextParseError` on malformed input.
 */
export function parseAll(input: TextInput, contentType: string = 'prometheus-text', options: ParserOptions = {}): ParsedEntry[] {
  const format: ExpositionFormat =
    contentType === 'prometheus-text' || contentType === 'openmetrics' ? contentType : contentTypeFor(contentType);
  const p = createParser(input, format, options);
  const out: ParsedEntry[] = [];
  for (let kind = p.next(); kind !== 'eof'; kind = p.next()) {
    switch (kind) {
      case 'series': {
        const ts = p.timestamp();
        const ex = p.exemplar();
        out.push({
          kind,
          name: p.metricName(),
          labels: p.labels(),
          value: p.value(),
          ...(ts !== undefined ? { timestamp: ts } : {}),
          ...(ex !== undefined ? { exemplar: ex } : {}),
        });
        break;
      }
      case 'type':
        out.push({ kind, name: p.metricName(), type: p.type() ?? 'unknown' });
        break;
      case 'help':
        out.push({ kind, name: p.metricName(), help: p.help() });
        break;
      case 'unit':
        out.push({ kind, name: p.metricName(), unit: p.unit() });
        break;
      case 'comment':
        out.push({ kind, text: p.comment() });
        break;
    }
  }
  return out;
}
