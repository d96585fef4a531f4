/**
 * A minimal WebAssembly binary writer: just what `xor-wasm.ts` needs to assemble its decoder at
 * start-up (one memory, a few functions over i32/i64/f64), so no compiled artifact or build tool
 * is involved. Opcode values are those of the WebAssembly 1.0 binary format.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;

export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i64Store: 0x37,
  f64Store: 0x39,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64GeS: 0x59,
  f64Gt: 0x64,
  f64Ge: 0x66,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i64Rotl: 0x89,
  i32WrapI64: 0xa7,
  i64ExtendI32U: 0xad,
  f64ConvertI64S: 0xb9,
} as const;

/** Block type of a block/loop/if that leaves nothing on the stack. */
export const VOID = 0x40;

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: bigint, out: number[]): void {
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** The body of one function: instructions appended in order. */
export class FuncBody {
  readonly code: number[] = [];
  /** Declared locals after the parameters, one type each. */
  readonly locals: number[] = [];

  constructor(readonly params: readonly number[], readonly results: readonly number[]) {}

  /** Declares a local and returns its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(i: number): this {
    this.code.push(OP.localGet);
    uleb(i, this.code);
    return this;
  }

  set(i: number): this {
    this.code.push(OP.localSet);
    uleb(i, this.code);
    return this;
  }

  tee(i: number): this {
    this.code.push(OP.localTee);
    uleb(i, this.code);
    return this;
  }

  i32(n: number): this {
    this.code.push(OP.i32Const);
    sleb(BigInt(n), this.code);
    return this;
  }

  i64(n: bigint): this {
    this.code.push(OP.i64Const);
    sleb(BigInt.asIntN(64, n), this.code);
    return this;
  }

  /** A memory access with `align` (log2 bytes) and constant `offset`. */
  mem(opcode: number, align: number, offset = 0): this {
    this.code.push(opcode);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  /** Branch instructions take a relative depth. */
  br(opcode: number, depth: number): this {
    this.code.push(opcode);
    uleb(depth, this.code);
    return this;
  }

  callFn(index: number): this {
    this.code.push(OP.call);
    uleb(index, this.code);
    return this;
  }
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

function name(s: string, out: number[]): void {
  uleb(s.length, out);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** A module with one exported memory (`memory`, `pages` initial) and the given exported functions. */
export function buildModule(funcs: ReadonlyArray<{ name: string; body: FuncBody }>, pages: number): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const { body } of funcs) {
    types.push(0x60);
    uleb(body.params.length, types);
    types.push(...body.params);
    uleb(body.results.length, types);
    types.push(...body.results);
  }
  section(1, types, out);
  const fnSec: number[] = [];
  uleb(funcs.length, fnSec);
  funcs.forEach((_, i) => uleb(i, fnSec));
  section(3, fnSec, out);
  const memSec: number[] = [1, 0x00];
  uleb(pages, memSec);
  section(5, memSec, out);
  const exp: number[] = [];
  uleb(funcs.length + 1, exp);
  name('memory', exp);
  exp.push(0x02, 0);
  funcs.forEach((f, i) => {
    name(f.name, exp);
    exp.push(0x00);
    uleb(i, exp);
  });
  section(7, exp, out);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const { body } of funcs) {
    const fn: number[] = [];
    uleb(body.locals.length, fn);
    for (const t of body.locals) fn.push(1, t);
    fn.push(...body.code, OP.end);
    uleb(fn.length, code);
    code.push(...fn);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}
