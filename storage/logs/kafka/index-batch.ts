/**
 * What the indexer does with one fetched batch of one partition, without the broker: decode each
 * message, append the records to the log store in sub-batches, send what can never be stored to
 * the dead letters, and report which offsets may be resolved.
 *
 * The rule that makes it safe: a message's offset is resolved only once every record in it is
 * stored (or was already: a replay) or dead-lettered, and so is every message before it. Work is
 * done in chunks of whole messages; a chunk is resolved as a unit after its appends and its dead
 * letters succeeded. A store that is unavailable stops the batch at the chunk it failed in:
 * nothing from there on is resolved, and the consumer fetches it again later. Appends are
 * idempotent by record id, so the part of a chunk stored before the failure comes back as
 * duplicates.
 */
import type { LogRecord } from '../../../model/logs.js';
import { LogUnavailableError, type LogStore } from '../interface.js';
import { decodeLogMessage, encodeLogMessages, LogMessageDecodeError } from './codec.js';

/** The fields of a consumed Kafka message the indexer reads (a subset of kafkajs's `KafkaMessage`). */
export interface SourceMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** Context headers of a dead letter, as Kafka Connect writes them (KIP-298), plus the error text. */
export const DEAD_LETTER_HEADERS = {
  errorType: 'x-error-type',
  error: 'x-error',
  srcTopic: 'x-src-topic',
  srcPartition: 'x-src-partition',
  srcOffset: 'x-src-offset',
} as const;

/**
 * `corrupt`: the message could not be decoded; the letter is the message as it was.
 * `rejected`: the store refused records permanently; the letter is a message of those records.
 */
export type DeadLetterErrorType = 'corrupt' | 'rejected';

export interface DeadLetter {
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where dead letters go (the `<topic>.dlq` topic); resolves once they are durable. */
export interface DeadLetterWriter {
  write(letters: readonly DeadLetter[]): Promise<void>;
}

export interface IndexBatchOptions {
  readonly topic: string;
  readonly partition: number;
  readonly store: LogStore;
  readonly deadLetters: DeadLetterWriter;
  /** Records per `append`; default 2000. */
  readonly maxRecordsPerAppend?: number;
  /** Called after each append, to keep the consumer's group membership alive. */
  readonly heartbeat?: () => Promise<void>;
  /** Consulted before each chunk; false once the consumer stops or the batch went stale. */
  readonly shouldContinue?: () => boolean;
  /** Called with the offset of the last message of each chunk once the chunk is fully handled. */
  readonly resolve?: (offset: string) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

export interface IndexBatchResult {
  /** Offset of the last message fully handled, together with every message before it. */
  readonly lastHandledOffset: string | undefined;
  /** Messages fully handled. */
  readonly handled: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Records the store refused, sent to the dead letters. */
  readonly rejected: number;
  /** Messages that could not be decoded, sent to the dead letters. */
  readonly corrupt: number;
  /** Set when the store or the dead-letter topic was unavailable; the rest of the batch waits. */
  readonly unavailable?: LogUnavailableError;
  /** True when `shouldContinue` ended the batch early. */
  readonly stopped: boolean;
}

export const DEFAULT_MAX_RECORDS_PER_APPEND = 2000;
/** Kafka headers are not meant for essays; a store's reason can be long. */
const MAX_HEADER_CHARS = 2000;

interface Chunk {
  readonly messages: SourceMessage[];
  readonly records: LogRecord[];
  /** For each record, the message (index in `messages`) it came from. */
  readonly owners: number[];
  readonly letters: DeadLetter[];
}

export async function indexMessages(messages: readonly SourceMessage[], opts: IndexBatchOptions): Promise<IndexBatchResult> {
  const max = Math.max(1, opts.maxRecordsPerAppend ?? DEFAULT_MAX_RECORDS_PER_APPEND);
  let lastHandledOffset: string | undefined;
  let handled = 0;
  let stored = 0;
  let duplicates = 0;
  let rejected = 0;
  let corrupt = 0;
  let stopped = false;
  let unavailable: LogUnavailableError | undefined;

  let next = 0;
  while (next < messages.length) {
    if (opts.shouldContinue && !opts.shouldContinue()) {
      stopped = true;
      break;
    }
    const chunk: Chunk = { messages: [], records: [], owners: [], letters: [] };
    let chunkCorrupt = 0;
    while (next < messages.length && (chunk.messages.length === 0 || chunk.records.length < max)) {
      const m = messages[next++]!;
      const at = chunk.messages.push(m) - 1;
      try {
        for (const r of decodeLogMessage(m.value).records) {
          chunk.records.push(r);
          chunk.owners.push(at);
        }
      } catch (err) {
        if (!(err instanceof LogMessageDecodeError)) throw err;
        chunk.letters.push(letter(m.key, m.value, 'corrupt', err.message, opts, m.offset));
        chunkCorrupt++;
      }
    }

    const refused: { record: LogRecord; owner: number; reason: string }[] = [];
    try {
      for (let from = 0; from < chunk.records.length; from += max) {
        const slice = chunk.records.slice(from, from + max);
        const res = await opts.store.append(slice, opts.signal);
        stored += res.stored;
        duplicates += res.duplicates;
        for (const rej of res.rejected) {
          const record = slice[rej.index];
          if (record === undefined) throw new Error(`log store ${opts.store.name} rejected index ${rej.index} of a batch of ${slice.length}`);
          refused.push({ record, owner: chunk.owners[from + rej.index]!, reason: rej.reason });
        }
        await opts.heartbeat?.();
      }
    } catch (err) {
      if (!(err instanceof LogUnavailableError)) throw err;
      unavailable = err;
      break;
    }

    chunk.letters.push(...rejectedLetters(refused, chunk.messages, opts));
    if (chunk.letters.length > 0) {
      try {
        await opts.deadLetters.write(chunk.letters);
      } catch (err) {
        unavailable =
          err instanceof LogUnavailableError ? err : new LogUnavailableError(`dead-letter write failed: ${(err as Error).message}`, { cause: err });
        break;
      }
    }
    rejected += refused.length;
    corrupt += chunkCorrupt;
    handled += chunk.messages.length;
    lastHandledOffset = chunk.messages[chunk.messages.length - 1]!.offset;
    await opts.resolve?.(lastHandledOffset);
  }

  return { lastHandledOffset, handled, stored, duplicates, rejected, corrupt, stopped, ...(unavailable && { unavailable }) };
}

/** One letter per (message, reason): the refused records of a message, re-encoded. */
function rejectedLetters(
  refused: readonly { record: LogRecord; owner: number; reason: string }[],
  messages: readonly SourceMessage[],
  opts: IndexBatchOptions,
): DeadLetter[] {
  const groups = new Map<string, { owner: number; reason: string; records: LogRecord[] }>();
  for (const r of refused) {
    const k = `${r.owner}\u0000${r.reason}`;
    let g = groups.get(k);
    if (g === undefined) {
      g = { owner: r.owner, reason: r.reason, records: [] };
      groups.set(k, g);
    }
    g.records.push(r.record);
  }
  const out: DeadLetter[] = [];
  for (const g of groups.values()) {
    const m = messages[g.owner]!;
    for (const encoded of encodeLogMessages(g.records)) {
      out.push(letter(m.key, encoded.value, 'rejected', g.reason, opts, m.offset));
    }
  }
  return out;
}

function letter(
  key: Buffer | null,
  value: Buffer | null,
  type: DeadLetterErrorType,
  error: string,
  opts: IndexBatchOptions,
  offset: string,
): DeadLetter {
  return {
    key,
    value,
    headers: {
      [DEAD_LETTER_HEADERS.errorType]: type,
      [DEAD_LETTER_HEADERS.error]: error.length > MAX_HEADER_CHARS ? `${error.slice(0, MAX_HEADER_CHARS)}…` : error,
      [DEAD_LETTER_HEADERS.srcTopic]: opts.topic,
      [DEAD_LETTER_HEADERS.srcPartition]: String(opts.partition),
      [DEAD_LETTER_HEADERS.srcOffset]: offset,
    },
  };
}
