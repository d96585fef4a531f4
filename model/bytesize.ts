/**
 * Byte sizes as Prometheus writes them for `--storage.tsdb.retention.size`: an integer and one of
 * `B KB MB GB TB PB EB`, powers of two (1KB = 1024B), so a value copied from a Prometheus command
 * line means the same here. The IEC spellings (`KiB` … `EiB`) are accepted as synonyms; `0` means
 * "no limit".
 */

const UNIT_POWERS: Readonly<Record<string, number>> = {
  B: 0,
  KB: 1, KiB: 1,
  MB: 2, MiB: 2,
  GB: 3, GiB: 3,
  TB: 4, TiB: 4,
  PB: 5, PiB: 5,
  EB: 6, EiB: 6,
};

/** The same syntax as a JSON-schema pattern, for the configuration schema. */
export const BYTE_SIZE_PATTERN = '^(0|[0-9]+(B|[KMGTPE]i?B))$';

const BYTE_SIZE_RE = new RegExp(BYTE_SIZE_PATTERN);

export class ByteSizeError extends Error {
  constructor(readonly input: string) {
    super(`not a valid size: ${JSON.stringify(input)}`);
    this.name = 'ByteSizeError';
  }
}

export function parseByteSize(input: string): number {
  if (!BYTE_SIZE_RE.test(input)) throw new ByteSizeError(input);
  if (input === '0') return 0;
  const unitAt = input.search(/[A-Z]/);
  const count = Number(input.slice(0, unitAt));
  const bytes = count * 1024 ** UNIT_POWERS[input.slice(unitAt)]!;
  if (!Number.isSafeInteger(bytes)) throw new ByteSizeError(input);
  return bytes;
}

/** The shortest exact spelling, e.g. `512MB`, `1536KB`, `0`. */
export function formatByteSize(bytes: number): string {
  if (bytes === 0) return '0';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let power = 0;
  while (power < units.length - 1 && bytes % 1024 ** (power + 1) === 0) power++;
  return `${bytes / 1024 ** power}${units[power]}`;
}
