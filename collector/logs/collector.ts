/**
 * The container-log collector: finds log files, tails them through rotations, assembles records
 * and ships them to a `LogSink`, advancing each file's checkpoint only past acknowledged records.
 *
 * One loop does the file work, so files never race each other: it rescans the directories every
 * `scanIntervalMs` (fs.watch events only make it look sooner), then steps the tailers round-robin,
 * one chunk each, while the shipper's queue has room. A full queue pauses reading; nothing is
 * dropped, the files are the buffer.
 *
 * Rotation:
 * - rename (kubelet, logrotate `create`): the tailer keeps its descriptor, reads the renamed file
 *   to its end, closes it; the new file at the path is a new content, read from its start;
 * - truncation and copytruncate (the file shrank below the read position, or its first line
 *   changed): what was read is kept, the path is re-fingerprinted and read from 0; a copy that
 *   still holds the old content (same fileKey) is read on from the old position;
 * - gzip: a rotation not read to its end when it was compressed (the collector was behind or
 *   down) is read from the `.gz`, decompressing up to the checkpointed offset;
 * - deletion (container or pod removed): the open descriptor is drained to the end first.
 *
 * See README.md in this folder for the guarantees and options.
 */
import { stat, open } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { LogRecord, LogSource } from '../../model/logs.js';
import type { LogSink } from '../../storage/logs/interface.js';
import type { Service, ServiceContext } from '../../util/lifecycle.js';
import { silentLogger, type Logger } from '../../util/logging.js';
import { GzipFileSource, PlainFileSource, gzipTrailerSize, type ByteSource } from './byte-source.js';
import { CheckpointStore, type Checkpoint } from './checkpoint-store.js';
import { discoverGlobFiles, discoverPodLogs, type FileCandidate } from './discovery.js';
import { fingerprintGzip, fingerprintHandle, type Fingerprint } from './fingerprint.js';
import { compileGlob, type CompiledGlob } from './glob.js';
import { LogCollectorMetrics } from './metrics.js';
import { isExcluded, type PodMetadataProvider } from './pod-metadata.js';
import { PodMetadataLookups, type Lookup } from './pod-metadata-lookups.js';
import { StreamRateLimiter } from './rate-limit.js';
import { createRecordAssembler, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MULTILINE_FLUSH_MS, type AssemblerOptions } from './record-assembler.js';
import { Shipper, type ShipEntry } from './shipper.js';
import { FileTailer, type Emitted, type StepResult } from './tailer.js';
import { TrackedFile } from './tracked-file.js';

export interface LogCollectorOptions {
  readonly sink: LogSink;
  /** Checkpoints live in `<dataDir>/log-checkpoints.db`. */
  readonly dataDir: string;
  /** Root of `<ns>_<pod>_<uid>/<container>/<n>.log`; default env `VIGIL_PODS_LOG_ROOT`, else `/var/log/pods`. */
  readonly podsRoot?: string;
  /** Further files to tail (see discovery.ts for their metadata). */
  readonly extraGlobs?: readonly string[];
  /** Put on every record; default env `VIGIL_NODE_NAME`, else the host name. */
  readonly nodeName?: string;
  /** Pod labels and annotations for records; `vigil.io/exclude` pods are not read. */
  readonly podMetadata?: PodMetadataProvider;
  /**
   * How long the files of a pod the provider has not answered for yet are held back (their
   * exclusion is unknown); then they are read without metadata. Default 5000.
   */
  readonly metadataWaitMs?: number;
  readonly assembler?: AssemblerOptions;
  /** Per container: lines over the rate wait in the file, none are dropped. */
  readonly rateLimit?: { readonly linesPerSecond: number; readonly burst: number };
  /** Directory rescan period, also the poll period of idle files. Default 1000. */
  readonly scanIntervalMs?: number;
  /** Use fs.watch events to notice writes and new files sooner than the next scan. Default true. */
  readonly watch?: boolean;
  /** Bytes read from a file per step. Default 256 KiB. */
  readonly chunkBytes?: number;
  /** Bytes of records read but not acknowledged before reading pauses. Default 16 MiB. */
  readonly maxQueueBytes?: number;
  readonly batchMaxRecords?: number;
  readonly batchMaxBytes?: number;
  readonly batchMaxWaitMs?: number;
  /** Backoff of failed sink writes: first delay, doubling up to the cap. Defaults 100 ms and 10 s. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Checkpoints are persisted at most this often. Default 200. */
  readonly checkpointIntervalMs?: number;
  /** How long `stop` waits for the queue to drain into the sink. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Called after each acknowledged batch (log-derived metrics). */
  readonly onAcknowledged?: (batch: readonly LogRecord[]) => void;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** Overhead accounted per queued record beyond its raw bytes (object, source pointer, id). */
const RECORD_OVERHEAD_BYTES = 256;
/** Consecutive scans a content must be missing before its checkpoint is forgotten. */
const FORGET_AFTER_SCANS = 2;
const MAX_WATCHED_DIRS = 4096;

/** A file found by a scan, with its identity. */
interface Instance {
  readonly candidate: FileCandidate;
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly fp: Fingerprint;
}

export class LogCollector implements Service {
  readonly name = 'log-collector';
  readonly node: string;
  readonly podsRoot: string;
  readonly metrics: LogCollectorMetrics;
  readonly #opts: LogCollectorOptions;
  readonly #logger: Logger;
  readonly #globs: CompiledGlob[];
  readonly #scanIntervalMs: number;
  readonly #chunkBytes: number;
  readonly #maxLineBytes: number;
  readonly #flushTickMs: number;
  readonly #rateLimiter: StreamRateLimiter | undefined;
  readonly #podLookups: PodMetadataLookups | undefined;
  readonly #shipper: Shipper;
  readonly #files = new Map<string, TrackedFile>();
  /** Persisted checkpoints whose content no scan has found yet, with the scans that missed them. */
  readonly #orphans = new Map<string, { checkpoint: Checkpoint; missed: number }>();
  readonly #forget: string[] = [];
  /** Fingerprints by path, valid while the path keeps its device and inode. */
  readonly #fingerprints = new Map<string, { dev: string; ino: string; fp: Fingerprint }>();
  /**
   * Rotations known to be read to their end, `dev:ino:size` → read offset: not opened again
   * unless they change (a partial last line that never completes, a corrupt gzip file).
   */
  readonly #readToEnd = new Map<string, number>();
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #hintedDirs = new Set<string>();
  #store: CheckpointStore | undefined;
  #starting: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #persistTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #nextScanAt = 0;
  #lastScanAt = 0;
  #lastPollAt = 0;
  #cursor = 0;
  #lastReadMs: number | undefined;
  #wake: (() => void) | undefined;
  #wakePending = false;
  #ctx: ServiceContext | undefined;

  constructor(opts: LogCollectorOptions) {
    this.#opts = opts;
    this.#logger = (opts.logger ?? silentLogger()).child({ component: 'log-collector' });
    this.node = opts.nodeName ?? process.env.VIGIL_NODE_NAME ?? os.hostname();
    this.podsRoot = path.resolve(opts.podsRoot ?? process.env.VIGIL_PODS_LOG_ROOT ?? '/var/log/pods');
    this.#globs = (opts.extraGlobs ?? []).map((g) => compileGlob(g));
    this.#scanIntervalMs = opts.scanIntervalMs ?? 1000;
    this.#chunkBytes = opts.chunkBytes ?? 256 * 1024;
    // Room for the runtime's framing around the largest record the assembler keeps whole.
    this.#maxLineBytes = (opts.assembler?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES) + 64 * 1024;
    this.#flushTickMs = Math.min(250, Math.max(20, (opts.assembler?.multilineFlushMs ?? DEFAULT_MULTILINE_FLUSH_MS) / 4));
    this.#rateLimiter = opts.rateLimit !== undefined ? new StreamRateLimiter(opts.rateLimit) : undefined;
    this.#podLookups =
      opts.podMetadata === undefined
        ? undefined
        : new PodMetadataLookups(opts.podMetadata, {
            waitMs: opts.metadataWaitMs ?? 5000,
            refreshMs: 5000,
            onFirstAnswer: () => this.#scanSoon(),
          });
    this.metrics = new LogCollectorMetrics(opts.registry, () => this.filesOpen);
    this.#shipper = new Shipper({
      sink: opts.sink,
      metrics: this.metrics,
      logger: this.#logger,
      maxQueueBytes: opts.maxQueueBytes ?? 16 * 1024 * 1024,
      batchMaxRecords: opts.batchMaxRecords ?? 2000,
      batchMaxBytes: opts.batchMaxBytes ?? 1024 * 1024,
      batchMaxWaitMs: opts.batchMaxWaitMs ?? 100,
      retryInitialMs: opts.retryInitialMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 10_000,
      ...(opts.onAcknowledged !== undefined && { onAcknowledged: opts.onAcknowledged }),
      onProgress: () => this.#notify(),
    });
  }

  /** Files open for reading. */
  get filesOpen(): number {
    let n = 0;
    for (const f of this.#files.values()) if (f.tailer !== undefined) n++;
    return n;
  }

  /** When the collector last completed a read pass (ms since epoch); feeds the staleness alert. */
  get lastReadMs(): number | undefined {
    return this.#lastReadMs;
  }

  /** Bytes read but not acknowledged yet. */
  get queuedBytes(): number {
    return this.#shipper.queuedBytes;
  }

  start(ctx?: ServiceContext): Promise<void> {
    if (this.#starting !== undefined) return Promise.reject(new Error('log collector already started'));
    this.#starting = this.#start(ctx);
    return this.#starting;
  }

  async #start(ctx: ServiceContext | undefined): Promise<void> {
    this.#ctx = ctx;
    this.#store = CheckpointStore.open(path.join(this.#opts.dataDir, 'log-checkpoints.db'));
    for (const c of this.#store.all()) this.#orphans.set(c.fileKey, { checkpoint: c, missed: 0 });
    this.#shipper.start();
    await this.#scan();
    if (this.#stopping) return; // stop was called during the first scan
    this.#nextScanAt = Date.now() + this.#scanIntervalMs;
    this.#persistTimer = setInterval(() => this.#persist(), this.#opts.checkpointIntervalMs ?? 200);
    this.#persistTimer.unref();
    this.#loop = this.#run().catch((err) => {
      this.#logger.error({ err }, 'log collector loop failed');
      this.#ctx?.fatal(err);
    });
    this.#logger.info({ podsRoot: this.podsRoot, extraGlobs: this.#opts.extraGlobs ?? [], node: this.node, files: this.#files.size }, 'log collector started');
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#notify();
    await this.#starting?.catch(() => undefined); // a start still scanning finishes first
    clearInterval(this.#persistTimer);
    await this.#loop;
    const drained = await this.#shipper.stop(Date.now() + (this.#opts.stopTimeoutMs ?? 10_000));
    if (!drained) this.#logger.warn({ records: this.#shipper.pending }, 'log sink did not acknowledge everything before stop; the rest is read again on restart');
    // Records still being assembled are not flushed: their checkpoint stays before them, so the
    // next start reads them again and joins them whole.
    this.#persist();
    for (const f of this.#files.values()) await f.detach()?.close();
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#store?.close();
    this.metrics.paused.set(0);
  }

  // ---- the loop -------------------------------------------------------------------------------

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    if (w === undefined) this.#wakePending = true;
    else w();
  }

  /** Sleeps `ms` or until `#notify`; a notification that came while awake ends the next sleep at once. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopping || this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(0, ms));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (Date.now() >= this.#nextScanAt) {
        try {
          await this.#scan();
        } catch (err) {
          this.#logger.error({ err }, 'scanning for log files failed; retrying at the next scan');
        }
        this.#lastScanAt = Date.now();
        this.#nextScanAt = this.#lastScanAt + this.#scanIntervalMs;
      }
      const { progressed, blocked } = await this.#pass();
      this.#flushDue();
      this.metrics.paused.set(blocked ? 1 : 0);
      if (!blocked) {
        this.#lastReadMs = Date.now();
        this.metrics.lastRead.set({ node: this.node }, this.#lastReadMs / 1000);
      }
      if (this.#stopping) break;
      if (blocked) await this.#sleep(this.#nextScanAt - Date.now());
      else if (!progressed) await this.#sleep(this.#idleWaitMs());
    }
  }

  /** One round over the tailers, each stepped once if it may have something to do. */
  async #pass(): Promise<{ progressed: boolean; blocked: boolean }> {
    const files = [...this.#files.values()].filter((f) => f.tailer !== undefined);
    const pollAll = this.#polling();
    const hinted = new Set(this.#hintedDirs);
    this.#hintedDirs.clear();
    let progressed = false;
    let blocked = false;
    const start = files.length === 0 ? 0 : this.#cursor % files.length;
    for (let i = 0; i < files.length; i++) {
      if (this.#stopping) break;
      const file = files[(start + i) % files.length]!;
      const t = file.tailer;
      if (t === undefined) continue;
      if (t.idle && !pollAll && !hinted.has(path.dirname(t.path))) continue;
      if (this.#shipper.full) {
        // The next pass starts here, so a long backpressure does not starve the files behind.
        this.#cursor = (start + i) % files.length;
        blocked = true;
        break;
      }
      const out: Emitted[] = [];
      let result: StepResult;
      try {
        result = await t.step(Date.now(), out);
      } catch (err) {
        this.#emit(file, out);
        await this.#abandon(file, err);
        continue;
      }
      this.#emit(file, out);
      if (result === 'data') {
        progressed = true;
        t.idle = false;
      } else if (result === 'eof') {
        t.idle = true;
        if (!t.following) await this.#finish(file);
      } else if (result === 'truncated') {
        await this.#truncated(file);
      }
    }
    if (!blocked) this.#cursor = start + 1;
    return { progressed, blocked };
  }

  /** Whether idle tailers are due a poll: once per scan period. */
  #polling(): boolean {
    const now = Date.now();
    if (now - this.#lastPollAt < this.#scanIntervalMs) return false;
    this.#lastPollAt = now;
    return true;
  }

  #flushDue(): void {
    const now = Date.now();
    for (const file of this.#files.values()) {
      if (file.tailer === undefined) continue;
      const out: Emitted[] = [];
      file.tailer.flushDue(now, out);
      this.#emit(file, out);
    }
  }

  #idleWaitMs(): number {
    const now = Date.now();
    let wait = this.#nextScanAt - now;
    for (const file of this.#files.values()) {
      const t = file.tailer;
      if (t === undefined) continue;
      if (t.holdUntil > now) wait = Math.min(wait, t.holdUntil - now);
      if (t.pendingFrom() !== undefined) wait = Math.min(wait, this.#flushTickMs);
    }
    return wait;
  }

  #emit(file: TrackedFile, emitted: readonly Emitted[]): void {
    if (emitted.length === 0) return;
    const entries: ShipEntry[] = emitted.map(({ record, resumeAt }) => ({
      record,
      bytes: record.endOffset - record.offset + RECORD_OVERHEAD_BYTES,
      owner: file,
      ticket: file.unacked.add(resumeAt),
    }));
    this.#shipper.push(entries);
  }

  /** A tailer that will get no more data reached the end: hand on everything, close it. */
  async #finish(file: TrackedFile): Promise<void> {
    const t = file.tailer!;
    const out: Emitted[] = [];
    t.flushAll(out);
    this.#emit(file, out);
    file.detach();
    await this.#markReadToEnd(t, file.readOffset);
    await t.close();
    this.#logger.debug({ path: t.path, fileKey: file.fileKey, offset: file.readOffset }, 'finished reading rotated or deleted file');
  }

  /**
   * The file shrank or its first line changed. What was read of the old content stays read (a
   * copy of it may be read on from there); the path is fingerprinted afresh by a scan right away.
   */
  async #truncated(file: TrackedFile): Promise<void> {
    const t = file.tailer!;
    this.metrics.rotations.inc({ kind: 'truncate' });
    const out: Emitted[] = [];
    t.flushAll(out);
    this.#emit(file, out);
    file.detach();
    await t.close();
    this.#fingerprints.delete(t.path);
    this.#nextScanAt = 0;
    this.#logger.info({ path: t.path, fileKey: file.fileKey, offset: file.readOffset }, 'log file truncated; reading it from the start');
  }

  /** A read failed: close the file, keep the checkpoint; a later scan tries again. */
  async #abandon(file: TrackedFile, err: unknown): Promise<void> {
    const t = file.detach();
    if (t === undefined) return;
    // A corrupt gzip file is not retried until it changes; a plain file at the next scan.
    if (t.byteSource.compressed) await this.#markReadToEnd(t, file.readOffset);
    await t.close();
    this.#logger.warn({ err, path: t.path, fileKey: file.fileKey }, 'reading log file failed');
  }

  async #markReadToEnd(t: FileTailer, offset: number): Promise<void> {
    let size: number | undefined;
    try {
      if (t.byteSource instanceof PlainFileSource) size = (await t.byteSource.handle.stat()).size;
      else {
        const st = await stat(t.path, { bigint: true });
        if (String(st.dev) === t.dev && String(st.ino) === t.ino) size = Number(st.size);
      }
    } catch {
      return;
    }
    if (size !== undefined) this.#readToEnd.set(`${t.dev}:${t.ino}:${size}`, offset);
  }

  // ---- scanning -------------------------------------------------------------------------------

  async #scan(): Promise<void> {
    const [pods, extra] = await Promise.all([discoverPodLogs(this.podsRoot), discoverGlobFiles(this.#globs)]);
    const candidates = [...pods.files, ...extra.files];
    const instances: Instance[] = [];
    const byPath = new Map<string, Instance>();
    /** Device and inode of every candidate path, fingerprinted or not. */
    const inodes = new Map<string, string>();
    for (const candidate of candidates) {
      const inst = await this.#identify(candidate, inodes);
      if (inst === undefined) continue;
      instances.push(inst);
      byPath.set(candidate.path, inst);
    }
    for (const p of this.#fingerprints.keys()) if (!byPath.has(p)) this.#fingerprints.delete(p);

    await this.#checkFollowed(inodes);

    // Live files first, then plain rotations, then gzipped ones: a content is read from the
    // cheapest copy available.
    const rank = (i: Instance) => (i.candidate.live ? 0 : i.candidate.compressed ? 2 : 1);
    instances.sort((a, b) => rank(a) - rank(b));
    const seen = new Set<string>();
    for (const inst of instances) {
      if (this.#stopping) return;
      if (this.#fingerprints.get(inst.candidate.path)?.fp !== inst.fp) continue; // invalidated (truncated) meanwhile
      const file = this.#track(inst);
      seen.add(file.fileKey);
      file.missingScans = 0;
      if (file.tailer !== undefined) {
        if (file.tailer.dev === inst.dev && file.tailer.ino === inst.ino) file.path = inst.candidate.path;
        continue;
      }
      try {
        await this.#consider(file, inst);
      } catch (err) {
        this.#logger.warn({ err, path: inst.candidate.path }, 'cannot open log file');
      }
    }

    // A root that cannot be listed (not mounted yet, say) is no evidence that files are gone:
    // forgetting their checkpoints then would mean reading everything again later.
    if (pods.complete) this.#forgetMissing(seen);
    if (this.#readToEnd.size > 0) {
      const present = new Set(instances.map((i) => `${i.dev}:${i.ino}:${i.size}`));
      for (const k of this.#readToEnd.keys()) if (!present.has(k)) this.#readToEnd.delete(k);
    }
    this.#podLookups?.prune(Date.now() - 10 * 60_000);
    this.#syncWatchers([...pods.dirs, ...extra.dirs]);
  }

  /** Forgets contents missing from consecutive scans once nothing of them is in flight. */
  #forgetMissing(seen: ReadonlySet<string>): void {
    for (const [key, file] of this.#files) {
      if (seen.has(key)) continue;
      file.missingScans++;
      if (file.settled && file.missingScans >= FORGET_AFTER_SCANS) {
        this.#files.delete(key);
        this.#forget.push(key);
      }
    }
    for (const [key, o] of this.#orphans) {
      if (++o.missed >= FORGET_AFTER_SCANS) {
        this.#orphans.delete(key);
        this.#forget.push(key);
      }
    }
  }

  /** Stats and fingerprints a candidate; undefined when it is gone or has no complete first line. */
  async #identify(candidate: FileCandidate, inodes: Map<string, string>): Promise<Instance | undefined> {
    let st;
    try {
      st = await stat(candidate.path, { bigint: true });
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const dev = String(st.dev);
    const ino = String(st.ino);
    const size = Number(st.size);
    inodes.set(candidate.path, `${dev}:${ino}`);
    const cached = this.#fingerprints.get(candidate.path);
    if (cached !== undefined && cached.dev === dev && cached.ino === ino && size >= cached.fp.firstLineBytes) {
      return { candidate, dev, ino, size, fp: cached.fp };
    }
    let fp: Fingerprint | undefined;
    try {
      if (candidate.compressed) fp = await fingerprintGzip(candidate.path, this.#maxLineBytes, candidate.scope);
      else {
        const fh = await open(candidate.path, 'r');
        try {
          fp = await fingerprintHandle(fh, this.#maxLineBytes, candidate.scope);
        } finally {
          await fh.close();
        }
      }
    } catch (err) {
      this.#logger.debug({ err, path: candidate.path }, 'cannot fingerprint log file');
      return undefined;
    }
    if (fp === undefined) return undefined;
    this.#fingerprints.set(candidate.path, { dev, ino, fp });
    return { candidate, dev, ino, size, fp };
  }

  /**
   * Tailers following a live path: is the path still their file? Else it was renamed or deleted:
   * it is read to its end and closed. (Truncation shows when reading: see PlainFileSource.)
   */
  async #checkFollowed(inodes: Map<string, string>): Promise<void> {
    const known = new Set(inodes.values());
    for (const file of [...this.#files.values()]) {
      const t = file.tailer;
      if (t === undefined || !t.following) continue;
      const now = inodes.get(t.path);
      if (now !== `${t.dev}:${t.ino}`) {
        t.following = false;
        t.idle = false;
        const renamed = now !== undefined || known.has(`${t.dev}:${t.ino}`);
        if (renamed) this.metrics.rotations.inc({ kind: 'rename' });
        this.#logger.debug({ path: t.path, fileKey: file.fileKey, renamed }, renamed ? 'log file rotated' : 'log file deleted; draining it');
        continue;
      }
      const lookup = this.#lookup(file);
      if (lookup.state === 'ready' && isExcluded(lookup.meta, file.meta.container)) {
        // Excluded since it was opened: stop reading; the next scan skips it to its end.
        await file.detach()?.close();
      }
    }
  }

  /** The tracked state of an instance's content, created (from a checkpoint, if any) on first sight. */
  #track(inst: Instance): TrackedFile {
    const key = inst.fp.fileKey;
    let file = this.#files.get(key);
    if (file !== undefined) return file;
    const orphan = this.#orphans.get(key);
    this.#orphans.delete(key);
    const cp = orphan?.checkpoint;
    file = new TrackedFile(key, cp?.path ?? inst.candidate.path, inst.candidate.meta, {
      readOffset: cp?.offset ?? 0,
      dev: inst.dev,
      ino: inst.ino,
      path: inst.candidate.path,
      ...(cp !== undefined && { persisted: cp.offset }),
    });
    this.#files.set(key, file);
    return file;
  }

  /** Opens a tailer on an instance if it has something to read, unless its pod is excluded. */
  async #consider(file: TrackedFile, inst: Instance): Promise<void> {
    const c = inst.candidate;
    const doneKey = `${inst.dev}:${inst.ino}:${inst.size}`;
    if (!c.live) {
      const doneAt = this.#readToEnd.get(doneKey);
      if (doneAt !== undefined && doneAt >= file.readOffset) return;
      if (!c.compressed && inst.size <= file.readOffset) return; // a rotation read to its end
    }
    const lookup = this.#lookup(file);
    if (lookup.state === 'pending') return; // looked at again when the answer comes
    const metadata = lookup.meta;
    if (isExcluded(metadata, file.meta.container)) {
      // Not read at all: the checkpoint moves to the last complete line, so that the file is
      // not read later either (when the pod is gone or the exclusion lifted).
      if (c.compressed) this.#readToEnd.set(doneKey, file.readOffset);
      else if (inst.size > file.readOffset) {
        const end = await lastLineEnd(c.path, file.readOffset, inst.size);
        if (end !== undefined) file.readOffset = end;
      }
      return;
    }
    let bytes: ByteSource;
    if (c.compressed) {
      const trailer = await gzipTrailerSize(c.path);
      if (trailer !== undefined && trailer === file.readOffset % 2 ** 32) {
        this.#readToEnd.set(doneKey, file.readOffset);
        return;
      }
      this.metrics.rotations.inc({ kind: 'gzip' });
      this.#logger.info({ path: c.path, fileKey: file.fileKey, offset: file.readOffset }, 'reading the rest of a gzipped rotation');
      bytes = new GzipFileSource(c.path, file.readOffset);
    } else {
      if (inst.size < file.readOffset) {
        // Same first line, less content: rewritten under the same key. Read it from the start.
        this.#logger.warn({ path: c.path, fileKey: file.fileKey, size: inst.size, offset: file.readOffset }, 'log file is shorter than its checkpoint; reading it from the start');
        this.metrics.rotations.inc({ kind: 'truncate' });
        file.readOffset = 0;
      }
      const plain = await PlainFileSource.open(c.path, file.readOffset);
      const st = await plain.handle.stat({ bigint: true });
      const fp = await fingerprintHandle(plain.handle, this.#maxLineBytes, c.scope);
      if (String(st.dev) !== inst.dev || String(st.ino) !== inst.ino || fp?.fileKey !== file.fileKey) {
        // Rotated or rewritten between the scan's look and the open: the next scan sorts it out.
        await plain.close();
        this.#fingerprints.delete(c.path);
        this.#nextScanAt = 0;
        return;
      }
      if (c.live) await plain.guardFirstLine(fp.firstLineBytes);
      bytes = plain;
    }
    const source: LogSource = {
      node: this.node,
      namespace: file.meta.namespace,
      pod: file.meta.pod,
      podUid: file.meta.podUid,
      container: file.meta.container,
      restart: file.meta.restart,
      path: file.firstPath,
      fileKey: file.fileKey,
      ...(metadata !== undefined && { podLabels: metadata.labels, podAnnotations: metadata.annotations }),
    };
    file.tailer = new FileTailer(
      {
        source,
        path: c.path,
        dev: inst.dev,
        ino: inst.ino,
        bytes,
        // Files from extra_globs are written by applications themselves, not by a runtime.
        assembler: createRecordAssembler(source, c.scope !== undefined ? { ...this.#opts.assembler, format: 'plain' } : this.#opts.assembler),
        following: c.live,
      },
      {
        chunkBytes: this.#chunkBytes,
        maxLineBytes: this.#maxLineBytes,
        metrics: this.metrics,
        ...(this.#rateLimiter !== undefined && { rateLimiter: this.#rateLimiter }),
        rateKey: `${file.meta.namespace}/${file.meta.pod}/${file.meta.podUid}/${file.meta.container}`,
      },
    );
    file.dev = inst.dev;
    file.ino = inst.ino;
    file.path = c.path;
  }

  /** The pod's metadata as known right now; never waits for the provider. */
  #lookup(file: TrackedFile): Lookup {
    if (this.#podLookups === undefined || file.meta.podUid === '') return { state: 'ready', meta: undefined };
    return this.#podLookups.lookup(file.meta.namespace, file.meta.pod, file.meta.podUid);
  }

  #syncWatchers(dirs: readonly string[]): void {
    if (this.#opts.watch === false || this.#stopping) return;
    const want = new Set(dirs.slice(0, MAX_WATCHED_DIRS));
    for (const [dir, w] of this.#watchers) {
      if (!want.has(dir)) {
        w.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of want) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (event) => this.#hint(dir, event));
        w.on('error', () => {
          w.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, w);
      } catch {
        // No watch (limit reached, directory gone): the periodic scan covers it.
      }
    }
  }

  #hint(dir: string, event: string): void {
    this.#hintedDirs.add(dir);
    // A created, renamed or deleted entry: look at the directories soon, not at every event.
    if (event === 'rename') this.#scanSoon();
    else this.#notify();
  }

  #scanSoon(): void {
    this.#nextScanAt = Math.min(this.#nextScanAt, this.#lastScanAt + Math.min(250, this.#scanIntervalMs));
    this.#notify();
  }

  // ---- checkpoints ----------------------------------------------------------------------------

  #persist(): void {
    const store = this.#store;
    if (store === undefined) return;
    const rows: Checkpoint[] = [];
    const now = Date.now();
    for (const file of this.#files.values()) {
      const offset = file.checkpoint();
      if (offset === file.persisted) continue;
      rows.push({ fileKey: file.fileKey, offset, dev: file.dev, ino: file.ino, path: file.path, updatedMs: now });
      file.persisted = offset;
    }
    try {
      store.save(rows);
      store.delete(this.#forget.splice(0));
    } catch (err) {
      // Unsaved checkpoints only mean more re-reading after a restart; the next tick retries.
      for (const r of rows) {
        const f = this.#files.get(r.fileKey);
        if (f !== undefined) f.persisted = undefined;
      }
      this.#logger.error({ err }, 'saving log checkpoints failed');
    }
  }
}

/** Offset just past the last `\n` in `[from, size)`, looking at the last 64 KiB at most. */
async function lastLineEnd(file: string, from: number, size: number): Promise<number | undefined> {
  const window = Math.min(size - from, 64 * 1024);
  if (window <= 0) return undefined;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(window);
    const { bytesRead } = await fh.read(buf, 0, window, size - window);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    return nl < 0 ? undefined : size - window + nl + 1;
  } finally {
    await fh.close();
  }
}
