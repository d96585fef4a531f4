/**
 * What the collector knows about one file content (one `fileKey`), across renames, gzip
 * rotation and restarts: how far it was read, which of its records await acknowledgement, and
 * the tailer reading it right now, if any. At most one tailer reads a content at a time, so a
 * rotated copy is never read twice in parallel.
 *
 * The checkpoint is the first offset not yet safe: the start of a record still being assembled
 * or of the first record not yet acknowledged, else the end of what was read.
 */
import type { AckOwner } from './shipper.js';
import type { FileTailer } from './tailer.js';
import type { FileMeta } from './discovery.js';
import { UnackedOffsets } from './unacked-offsets.js';

export class TrackedFile implements AckOwner {
  readonly unacked = new UnackedOffsets();
  tailer: FileTailer | undefined;
  /** End of what was read when no tailer is open (a tailer knows its own). */
  #readOffset: number;
  /** Device, inode and path of the copy last read. */
  dev: string;
  ino: string;
  path: string;
  /** Offset last written to the checkpoint store, if any. */
  persisted: number | undefined;
  /** Consecutive scans that found no copy of this content. */
  missingScans = 0;

  constructor(
    readonly fileKey: string,
    /** Path the content was first seen at (kept in `LogSource.path`). */
    readonly firstPath: string,
    readonly meta: FileMeta,
    init: { readOffset: number; dev: string; ino: string; path: string; persisted?: number },
  ) {
    this.#readOffset = init.readOffset;
    this.dev = init.dev;
    this.ino = init.ino;
    this.path = init.path;
    this.persisted = init.persisted;
  }

  get readOffset(): number {
    return this.tailer?.readOffset ?? this.#readOffset;
  }

  /** Sets the read offset while no tailer is open (skipping an excluded file, rolling back). */
  set readOffset(offset: number) {
    this.#readOffset = offset;
  }

  /** Detaches the tailer; what it read is kept, except a record it had not finished assembling. */
  detach(): FileTailer | undefined {
    const t = this.tailer;
    if (t === undefined) return undefined;
    const pending = t.pendingFrom();
    this.#readOffset = pending !== undefined ? Math.min(pending, t.readOffset) : t.readOffset;
    this.tailer = undefined;
    return t;
  }

  checkpoint(): number {
    const pending = this.tailer?.pendingFrom();
    const unacked = this.unacked.min();
    if (pending === undefined && unacked === undefined) return this.readOffset;
    return Math.min(pending ?? Number.POSITIVE_INFINITY, unacked ?? Number.POSITIVE_INFINITY);
  }

  acked(ticket: number): void {
    this.unacked.ack(ticket);
  }

  /** Nothing of it is open, queued or unacknowledged. */
  get settled(): boolean {
    return this.tailer === undefined && this.unacked.size === 0;
  }
}
