/**
 * The subset of Go's text/template that `| line_format` accepts here. Loki gives line_format the
 * whole of text/template plus sprig-like functions; what people write in practice is label
 * substitution, and that is what is supported:
 *
 * - literal text, copied as is;
 * - `{{.label}}`, with any spaces inside the braces (`{{ .label }}`): the label's value, or ""
 *   when the line has no such label (Loki's `missingkey=zero`);
 * - `{{__line__}}`: the line as it is at this stage;
 * - trim markers `{{- ` and ` -}}`, which remove the whitespace before / after the action.
 *
 * Anything else inside `{{ }}` (functions, pipes, `if`, `range`, comments, nested fields) is
 * rejected when the query is parsed, not when a line is formatted.
 */
import type { TemplatePart } from './ast.js';

export class TemplateError extends Error {
  constructor(
    /** Offset in the template of the action at fault. */
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let trimNextText = false;
  let i = 0;
  const pushText = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let literal = open < 0 ? template.slice(i) : template.slice(i, open);
    if (trimNextText) {
      literal = literal.replace(/^[ \t\r\n]+/, '');
      trimNextText = false;
    }
    text += literal;
    if (open < 0) break;
    const close = template.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(open, 'unclosed action');
    let inner = template.slice(open + 2, close);
    // Go requires a space after `{{-` and before `-}}` for them to be trim markers.
    if (/^-[ \t\r\n]/.test(inner)) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner = inner.slice(1);
    }
    if (/[ \t\r\n]-$/.test(inner)) {
      trimNextText = true;
      inner = inner.slice(0, -1);
    }
    const action = inner.trim();
    const field = FIELD.exec(action);
    pushText();
    if (field) {
      parts.push({ kind: 'label', name: field[1]! });
    } else if (action === '__line__') {
      parts.push({ kind: 'line' });
    } else {
      const shown = action.length > 40 ? `${action.slice(0, 40)}…` : action;
      throw new TemplateError(
        open,
        `unsupported action {{${shown}}}: only {{.label}} and {{__line__}} are supported`,
      );
    }
    i = close + 2;
  }
  pushText();
  return parts;
}

/** Renders parsed parts; `get` returns a label's value or undefined. */
export function renderTemplate(
  parts: readonly TemplatePart[],
  line: string,
  get: (name: string) => string | undefined,
): string {
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'line') out += line;
    else out += get(p.name) ?? '';
  }
  return out;
}
