/**
 * One decoded runtime line: what the CRI and docker json-file parsers produce. The assembler owns
 * a single instance and the parsers overwrite it, so parsing a line allocates nothing beyond the
 * content string.
 */
import type { LogStreamName } from '../../model/logs.js';

export class RuntimeLine {
  timeNs = 0n;
  stream: LogStreamName = 'stdout';
  /** A fragment of a longer line: CRI tag `P`, or a docker `log` without its trailing newline. */
  partial = false;
  content = '';
  /**
   * Characters of framing before the content in the raw line (the CRI prefix, docker's
   * `{"log":"`), 0 when unknown. Only a line cut into pieces needs it, to place the pieces.
   */
  prefixChars = 0;
}

/** The runtime log formats: detected per file from its first parseable line, as kubelet does. */
export type RuntimeFormat = 'cri' | 'docker';
