/**
 * The query path's XOR chunk decoder (format in `xor.ts`) as WebAssembly, assembled at start-up
 * by `wasm-emit.ts`. Decoding is the bulk of a query's work, and JavaScript numbers make it slow:
 * 64-bit values must be handled as two 32-bit halves, and fields are cut out with several shifts
 * and masks each. WebAssembly has 64-bit integers, so a value XOR is one shift pair and a
 * timestamp an i64 add; decoding runs several times faster than the JavaScript decoder.
 *
 * A series' chunks are copied into the module's memory side by side, each 8-byte aligned, with a
 * table of (offset, rounded length, samples). The module first byte-swaps each chunk's 64-bit
 * words in place, so that a little-endian i64 load yields the stream's bits most significant
 * first, then decodes them one after the other: timestamps as f64 and values as raw 64-bit
 * patterns (NaN payloads, -0 and staleness markers stay exact because values never pass through
 * float arithmetic). The caller copies the results out with `TypedArray.set`, a byte copy, or
 * element by element when they are few.
 */
import { buildModule, F64, FuncBody, I32, I64, OP, VOID } from './wasm-emit.js';

/** The few WebAssembly globals used here (this project's TypeScript libs do not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
};

/** The chunks of one series as the decoder needs them. */
export interface EncodedChunk {
  readonly numSamples: number;
  /** Encoded size in bytes. */
  readonly size: number;
  /** The encoded bytes (a view, not a copy). */
  readonly bytes: Uint8Array;
}

const PAGE = 65536;
/** Bytes of zeros after the last chunk: reads of a window may look up to 16 bytes ahead. */
const SLACK = 16;
/** Up to this many samples are copied out element by element rather than through views. */
const COPY_LOOP_MAX = 64;

/**
 * decodeChunk(off, samples, lo, hi, outT, outV, k) → k': decodes the chunk at `off` (words
 * already swapped), writing samples with lo ≤ t ≤ hi at index k onwards; mirrors
 * `decodeXorInto` in `xor.ts` step for step.
 */
function decodeChunkFn(): FuncBody {
  const f = new FuncBody([I32, I32, F64, F64, I32, I32, I32], [I32]);
  const OFF = 0;
  const NS = 1;
  const LO = 2;
  const HI = 3;
  const OUTT = 4;
  const OUTV = 5;
  const K = 6;
  const pos = f.local(I32);
  const read = f.local(I32);
  const t = f.local(I64);
  const tDelta = f.local(I64);
  const v = f.local(I64);
  const w = f.local(I64);
  const z = f.local(I64);
  const shift = f.local(I64);
  const b = f.local(I64);
  const sig = f.local(I64);
  const trail = f.local(I64);
  const tf = f.local(F64);
  const addr = f.local(I32);
  const o = f.local(I64);

  /** Pushes the 64 bits of the stream from bit `pos + delta` of the chunk. */
  const window = (delta: number): void => {
    // addr = off + ((pos + delta) >>> 6 << 3): the word holding the first bit.
    f.get(OFF).get(pos);
    if (delta !== 0) f.i32(delta).op(OP.i32Add);
    f.i32(6).op(OP.i32ShrU).i32(3).op(OP.i32Shl).op(OP.i32Add).tee(addr);
    f.mem(OP.i64Load, 3);
    // o = (pos + delta) & 63; word << o | next >>> (64 - o), the latter written so o = 0 gives 0.
    f.get(pos);
    if (delta !== 0) f.i32(delta).op(OP.i32Add);
    f.i32(63).op(OP.i32And).op(OP.i64ExtendI32U).tee(o);
    f.op(OP.i64Shl);
    f.get(addr).mem(OP.i64Load, 3, 8);
    f.i64(1n).op(OP.i64ShrU);
    f.i64(63n).get(o).op(OP.i64Sub).op(OP.i64ShrU);
    f.op(OP.i64Or);
  };
  const advance = (n: number): void => {
    f.get(pos).i32(n).op(OP.i32Add).set(pos);
  };
  /** Reads a varint byte by byte from `pos` into `z` (byte aligned or not). */
  const varint = (): void => {
    f.i64(0n).set(z).i64(0n).set(shift);
    f.op(OP.loop, VOID);
    window(0);
    f.i64(56n).op(OP.i64ShrU).set(b);
    advance(8);
    f.get(z).get(b).i64(0x7fn).op(OP.i64And).get(shift).op(OP.i64Shl).op(OP.i64Or).set(z);
    f.get(shift).i64(7n).op(OP.i64Add).set(shift);
    f.get(b).i64(0x80n).op(OP.i64And).op(OP.i64Eqz, OP.i32Eqz).br(OP.brIf, 0);
    f.op(OP.end);
  };

  // No samples: nothing to write.
  f.get(NS).op(OP.i32Eqz, OP.if, VOID).get(K).op(OP.return, OP.end);
  f.i32(0).set(pos);
  // Sample 0: zig-zag varint timestamp, then the raw value.
  varint();
  f.get(z).i64(1n).op(OP.i64ShrU).i64(0n).get(z).i64(1n).op(OP.i64And).op(OP.i64Sub).op(OP.i64Xor).set(t);
  window(0);
  f.set(v);
  advance(64);
  f.i64(0n).set(tDelta);
  f.i64(64n).set(sig);
  f.i64(0n).set(trail);
  f.i32(0).set(read);

  f.op(OP.loop, VOID); // depth 0 inside: the next sample
  // Emit the current sample if in range; past `hi` nothing later can be.
  f.get(t).op(OP.f64ConvertI64S).tee(tf).get(HI).op(OP.f64Gt, OP.if, VOID).get(K).op(OP.return, OP.end);
  f.get(tf).get(LO).op(OP.f64Ge, OP.if, VOID);
  f.get(OUTT).get(K).i32(3).op(OP.i32Shl).op(OP.i32Add).get(tf).mem(OP.f64Store, 3);
  f.get(OUTV).get(K).i32(3).op(OP.i32Shl).op(OP.i32Add).get(v).mem(OP.i64Store, 3);
  f.get(K).i32(1).op(OP.i32Add).set(K);
  f.op(OP.end);
  f.get(read).i32(1).op(OP.i32Add).tee(read).get(NS).op(OP.i32GeU, OP.if, VOID).get(K).op(OP.return, OP.end);

  // Timestamp: sample 1 has the first delta as a varint; later ones a delta-of-delta bucket.
  f.get(read).i32(1).op(OP.i32Eq, OP.if, VOID);
  varint();
  f.get(z).set(tDelta);
  f.op(OP.else);
  window(0);
  f.tee(w).i64(0n).op(OP.i64GeS, OP.if, VOID); // '0': regular interval
  advance(1);
  f.op(OP.else);
  f.get(w).i64(62n).op(OP.i64ShrU).i64(2n).op(OP.i64Eq, OP.if, VOID); // '10' + 14 bits
  f.get(tDelta).get(w).i64(2n).op(OP.i64Shl).i64(50n).op(OP.i64ShrS).op(OP.i64Add).set(tDelta);
  advance(16);
  f.op(OP.else);
  f.get(w).i64(61n).op(OP.i64ShrU).i64(6n).op(OP.i64Eq, OP.if, VOID); // '110' + 17 bits
  f.get(tDelta).get(w).i64(3n).op(OP.i64Shl).i64(47n).op(OP.i64ShrS).op(OP.i64Add).set(tDelta);
  advance(20);
  f.op(OP.else);
  f.get(w).i64(60n).op(OP.i64ShrU).i64(14n).op(OP.i64Eq, OP.if, VOID); // '1110' + 20 bits
  f.get(tDelta).get(w).i64(4n).op(OP.i64Shl).i64(44n).op(OP.i64ShrS).op(OP.i64Add).set(tDelta);
  advance(24);
  f.op(OP.else); // '1111' + 64 bits
  f.get(tDelta);
  window(4);
  f.op(OP.i64Add).set(tDelta);
  advance(68);
  f.op(OP.end, OP.end, OP.end, OP.end);
  f.op(OP.end);
  f.get(t).get(tDelta).op(OP.i64Add).set(t);

  // Value: '0' unchanged; '10' bits in the previous window; '11' + 5 bits leading + 6 bits length.
  window(0);
  f.tee(w).i64(0n).op(OP.i64GeS, OP.if, VOID);
  advance(1);
  f.br(OP.br, 1); // to the loop
  f.op(OP.end);
  f.get(w).i64(62n).op(OP.i64ShrU).i64(3n).op(OP.i64Eq, OP.if, VOID);
  f.get(w).i64(51n).op(OP.i64ShrU).i64(63n).op(OP.i64And).tee(sig).op(OP.i64Eqz, OP.if, VOID).i64(64n).set(sig).op(OP.end);
  // trailing = 64 - leading - sig
  f.i64(64n).get(w).i64(57n).op(OP.i64ShrU).i64(31n).op(OP.i64And).op(OP.i64Sub).get(sig).op(OP.i64Sub).set(trail);
  advance(13);
  f.op(OP.else);
  advance(2);
  f.op(OP.end);
  // v ^= (next sig bits) << trailing
  f.get(v);
  window(0);
  f.i64(64n).get(sig).op(OP.i64Sub).op(OP.i64ShrU).get(trail).op(OP.i64Shl).op(OP.i64Xor).set(v);
  f.get(pos).get(sig).op(OP.i32WrapI64).op(OP.i32Add).set(pos);
  f.br(OP.br, 0);
  f.op(OP.end);
  f.op(OP.unreachable);
  return f;
}

/**
 * decodeAll(table, n, lo, hi, outT, outV) → samples written: swaps and decodes the `n` chunks
 * described at `table` (three i32 each: offset, length rounded up to 8, samples).
 */
function decodeAllFn(): FuncBody {
  const f = new FuncBody([I32, I32, F64, F64, I32, I32], [I32]);
  const TABLE = 0;
  const N = 1;
  const LO = 2;
  const HI = 3;
  const OUTT = 4;
  const OUTV = 5;
  const c = f.local(I32);
  const k = f.local(I32);
  const entry = f.local(I32);
  const p = f.local(I32);
  const end = f.local(I32);
  const x = f.local(I64);
  const m1 = 0x00ff00ff00ff00ffn;
  const m2 = 0x0000ffff0000ffffn;

  f.op(OP.block, VOID, OP.loop, VOID);
  f.get(c).get(N).op(OP.i32GeU).br(OP.brIf, 1);
  f.get(TABLE).get(c).i32(12).op(OP.i32Mul).op(OP.i32Add).set(entry);
  f.get(entry).mem(OP.i32Load, 2, 0).tee(p);
  f.get(entry).mem(OP.i32Load, 2, 4).op(OP.i32Add).set(end);
  // Byte-swap every 64-bit word of the chunk.
  f.op(OP.block, VOID, OP.loop, VOID);
  f.get(p).get(end).op(OP.i32GeU).br(OP.brIf, 1);
  f.get(p).mem(OP.i64Load, 3).set(x);
  f.get(x).i64(8n).op(OP.i64ShrU).i64(m1).op(OP.i64And).get(x).i64(m1).op(OP.i64And).i64(8n).op(OP.i64Shl).op(OP.i64Or).set(x);
  f.get(x).i64(16n).op(OP.i64ShrU).i64(m2).op(OP.i64And).get(x).i64(m2).op(OP.i64And).i64(16n).op(OP.i64Shl).op(OP.i64Or).set(x);
  f.get(p).get(x).i64(32n).op(OP.i64Rotl).mem(OP.i64Store, 3);
  f.get(p).i32(8).op(OP.i32Add).set(p);
  f.br(OP.br, 0);
  f.op(OP.end, OP.end);
  // Decode it.
  f.get(entry).mem(OP.i32Load, 2, 0);
  f.get(entry).mem(OP.i32Load, 2, 8);
  f.get(LO).get(HI).get(OUTT).get(OUTV).get(k);
  f.callFn(0).set(k);
  f.get(c).i32(1).op(OP.i32Add).set(c);
  f.br(OP.br, 0);
  f.op(OP.end, OP.end);
  f.get(k);
  return f;
}

type DecodeAll = (table: number, n: number, lo: number, hi: number, outT: number, outV: number) => number;

/** One instance per process; JavaScript is single-threaded, so calls never overlap. */
export class WasmXorDecoder {
  readonly #memory: WasmMemory;
  readonly #decodeAll: DecodeAll;
  #u8 = new Uint8Array(0);
  #i32 = new Int32Array(0);
  #f64 = new Float64Array(0);

  constructor() {
    const bytes = buildModule(
      [
        { name: 'decodeChunk', body: decodeChunkFn() },
        { name: 'decodeAll', body: decodeAllFn() },
      ],
      16,
    );
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    this.#memory = instance.exports['memory'] as WasmMemory;
    this.#decodeAll = instance.exports['decodeAll'] as DecodeAll;
    this.#views();
  }

  #views(): void {
    const buf = this.#memory.buffer;
    this.#u8 = new Uint8Array(buf);
    this.#i32 = new Int32Array(buf);
    this.#f64 = new Float64Array(buf);
  }

  /**
   * Writes the samples of `chunks` (in time order) with `lo ≤ t ≤ hi` to `ts`/`vs` from index
   * `k`, which must have room for all their samples; returns the index after the last one.
   */
  decode(chunks: readonly EncodedChunk[], lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number {
    const n = chunks.length;
    if (n === 0) return k;
    let inBytes = 0;
    let samples = 0;
    for (let i = 0; i < n; i++) {
      const c = chunks[i]!;
      inBytes += (c.size + 7) & ~7;
      samples += c.numSamples;
    }
    const table = 0;
    const inStart = (n * 12 + 7) & ~7;
    const outT = inStart + inBytes + SLACK;
    const outV = outT + samples * 8;
    const need = outV + samples * 8;
    // The byte view spans the whole memory (asking the memory for its buffer is a slow call).
    if (need > this.#u8.length) {
      this.#memory.grow(Math.ceil((need - this.#u8.length) / PAGE));
      this.#views();
    }
    const u8 = this.#u8;
    const i32 = this.#i32;
    let off = inStart;
    for (let i = 0; i < n; i++) {
      const c = chunks[i]!;
      const bytes = c.bytes;
      const len = (bytes.byteLength + 7) & ~7;
      u8.set(bytes, off);
      i32[i * 3] = off;
      i32[i * 3 + 1] = len;
      i32[i * 3 + 2] = c.numSamples;
      off += len;
    }
    // Reads past the last chunk look at most SLACK bytes ahead; make them zeros, not old data.
    u8.fill(0, off, off + SLACK);
    const got = this.#decodeAll(table, n, lo, hi, outT, outV);
    const f64 = this.#f64;
    const t0 = outT / 8;
    const v0 = outV / 8;
    if (got <= COPY_LOOP_MAX) {
      // A few samples (an instant selector's window): copied one by one rather than through two
      // views made for the purpose. Float64Array to Float64Array keeps NaN payloads.
      for (let i = 0; i < got; i++) {
        ts[k + i] = f64[t0 + i]!;
        vs[k + i] = f64[v0 + i]!;
      }
    } else {
      ts.set(f64.subarray(t0, t0 + got), k);
      vs.set(f64.subarray(v0, v0 + got), k);
    }
    return k + got;
  }
}

/** The process's decoder, or undefined where WebAssembly is unavailable (then `xor.ts` decodes). */
export const wasmXorDecoder: WasmXorDecoder | undefined = (() => {
  try {
    return typeof WebAssembly === 'object' ? new WasmXorDecoder() : undefined;
  } catch {
    return undefined;
  }
})();
