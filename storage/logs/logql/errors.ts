/**
 * Parse errors worded as Loki words them: `parse error at line 1, col 15: syntax error: unexpected
 * IDENTIFIER, expecting STRING`. Grafana shows the message as is, and users who know Loki
 * recognise it. Unlike Loki, every error names a line and column, including the checks Loki
 * runs after parsing (it reports those at "line 0, col 0").
 */

export class LogqlParseError extends Error {
  /** UTF-16 offset in the query of what the error is about. */
  readonly position: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in characters (code points) from the start of the line, as Loki counts. */
  readonly column: number;
  /** The message without the `parse error at …:` prefix. */
  readonly detail: string;
  readonly query: string;

  constructor(query: string, position: number, detail: string) {
    const { line, column } = lineAndColumn(query, position);
    super(`parse error at line ${line}, col ${column}: ${detail}`);
    this.name = 'LogqlParseError';
    this.query = query;
    this.position = position;
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

/** Line and column of a UTF-16 offset; a surrogate pair counts as one column. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(position, text.length));
  let line = 1;
  let column = 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      column = 1;
    } else if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && isHighSurrogate(text.charCodeAt(i - 1)))) {
      column++;
    }
  }
  return { line, column };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
