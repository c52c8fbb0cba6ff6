/**
 * A small WebAssembly assembler: instructions are functions returning byte arrays in
 * the folded style of the text format (`i32.add(a, b)` emits `a`, `b`, then the
 * opcode), and {@link ModuleBuilder} writes a binary module that imports one shared
 * memory. Only the instructions the wasm kernel uses are here.
 *
 * @module
 */

/** Encoded instructions. */
export type Code = number[];
/** Value types. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const TYPE_BYTE: Record<ValType, number> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
};

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Concatenates code fragments. */
export function seq(...parts: (Code | number)[]): Code {
  const out: Code = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else for (const b of p) out.push(b);
  }
  return out;
}

const bin = (op: number) => (a: Code, b: Code): Code => seq(a, b, op);
const un = (op: number) => (a: Code): Code => seq(a, op);
const mem = (op: number, align: number) => (addr: Code, offset = 0): Code =>
  seq(addr, op, align, uleb(offset));
const store = (op: number, align: number) => (addr: Code, v: Code, offset = 0): Code =>
  seq(addr, v, op, align, uleb(offset));
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const sbin = (op: number) => (a: Code, b: Code): Code => seq(a, b, simd(op));
const sun = (op: number) => (a: Code): Code => seq(a, simd(op));
const sload = (op: number, align: number) => (addr: Code, offset = 0): Code =>
  seq(addr, simd(op), align, uleb(offset));

/** Local variable access. */
export const local = {
  get: (i: number): Code => [0x20, ...uleb(i)],
  set: (i: number, v: Code): Code => seq(v, 0x21, uleb(i)),
  tee: (i: number, v: Code): Code => seq(v, 0x22, uleb(i)),
};

/** i32 instructions. */
export const i32 = {
  const: (n: number): Code => [0x41, ...sleb(n)],
  load: mem(0x28, 2),
  store: store(0x36, 2),
  eqz: un(0x45),
  eq: bin(0x46),
  ne: bin(0x47),
  lt_s: bin(0x48),
  lt_u: bin(0x49),
  gt_s: bin(0x4a),
  le_s: bin(0x4c),
  ge_s: bin(0x4e),
  ge_u: bin(0x4f),
  add: bin(0x6a),
  sub: bin(0x6b),
  mul: bin(0x6c),
  div_u: bin(0x6e),
  rem_u: bin(0x70),
  and: bin(0x71),
  or: bin(0x72),
  shl: bin(0x74),
  shr_u: bin(0x76),
  /** `a < b ? a : b` (signed). */
  min_s: (a: Code, b: Code): Code => seq(a, b, a, b, 0x48, 0x1b),
};

/** f32 and f64 scalar instructions. */
export const f32 = {
  const: (x: number): Code => [0x43, ...new Uint8Array(Float32Array.of(x).buffer)],
  load: mem(0x2a, 2),
  store: store(0x38, 2),
  demote: un(0xb6),
};
/** f64 scalar instructions. */
export const f64 = {
  const: (x: number): Code => [0x44, ...new Uint8Array(Float64Array.of(x).buffer)],
  load: mem(0x2b, 3),
  store: store(0x39, 3),
  add: bin(0xa0),
  max: bin(0xa5),
  promote: un(0xbb),
};

/** v128 and shape-independent SIMD instructions. */
export const v128 = {
  load: sload(0, 4),
  load32_splat: sload(9, 2),
  load64_splat: sload(10, 3),
  load64_zero: sload(93, 3),
  store: (addr: Code, v: Code, offset = 0): Code => seq(addr, v, simd(11), 4, uleb(offset)),
  /** Stores 64-bit lane `lane` of `v` (8 bytes) at addr + offset. */
  store64_lane: (addr: Code, v: Code, lane: number, offset = 0): Code =>
    seq(addr, v, simd(91), 3, uleb(offset), lane),
  const: (bytes: ArrayLike<number>): Code => seq(simd(12), Array.from(bytes)),
  not: sun(77),
  and: sbin(78),
  andnot: sbin(79),
  or: sbin(80),
  xor: sbin(81),
  /** Lanes of `a` where `mask` is set, else of `b`. */
  bitselect: (a: Code, b: Code, mask: Code): Code => seq(a, b, mask, simd(82)),
  i64x2_splat: (a: Code): Code => seq(a, simd(18)),
  i32x4_splat: (a: Code): Code => seq(a, simd(17)),
  f32x4_extract_lane: (a: Code, lane: number): Code => seq(a, simd(31), lane),
  f64x2_extract_lane: (a: Code, lane: number): Code => seq(a, simd(33), lane),
  /** i8x16.shuffle: byte i of the result is byte `lanes[i]` of a (0-15) or b (16-31). */
  shuffle: (a: Code, b: Code, lanes: number[]): Code => seq(a, b, simd(13), lanes),
  /** Lanes 2 and 3 of `a` moved to 0 and 1. */
  high_to_low: (a: Code): Code =>
    seq(a, a, simd(13), [8, 9, 10, 11, 12, 13, 14, 15], [8, 9, 10, 11, 12, 13, 14, 15]),
  f64x2_promote_low: sun(95),
  f32x4_demote_zero: sun(94),
  /** Low two f32 lanes of `a` then low two of `b`. */
  concat_low64: (a: Code, b: Code): Code =>
    seq(a, b, simd(13), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]),
  i32x4_add: sbin(174),
  i32x4_sub: sbin(177),
  i32x4_shl: sbin(171),
  i32x4_shr_u: sbin(173),
  i64x2_add: sbin(206),
  i64x2_sub: sbin(209),
  i64x2_shl: sbin(203),
  i64x2_shr_u: sbin(205),
};

/** Opcodes of the float SIMD shapes that differ between f32x4 and f64x2. */
const SHAPES = {
  f32x4: {
    splat: 19,
    eq: 65,
    ne: 66,
    lt: 67,
    gt: 68,
    le: 69,
    ge: 70,
    abs: 224,
    neg: 225,
    sqrt: 227,
    add: 228,
    sub: 229,
    mul: 230,
    div: 231,
    min: 232,
    max: 233,
    pmin: 234,
    pmax: 235,
    floor: 104,
    nearest: 106,
    madd: 0x105,
  },
  f64x2: {
    splat: 20,
    eq: 71,
    ne: 72,
    lt: 73,
    gt: 74,
    le: 75,
    ge: 76,
    abs: 236,
    neg: 237,
    sqrt: 239,
    add: 240,
    sub: 241,
    mul: 242,
    div: 243,
    min: 244,
    max: 245,
    pmin: 246,
    pmax: 247,
    floor: 117,
    nearest: 148,
    madd: 0x107,
  },
};

/** Float SIMD instructions of one shape (f32x4 or f64x2), with its lane geometry. */
export interface FloatSimd {
  /** Lanes per vector. */
  lanes: 2 | 4;
  /** Bytes per element. */
  size: 4 | 8;
  /** log2(size). */
  shift: 2 | 3;
  splat: (a: Code) => Code;
  /** A vector of `x` in every lane. */
  constant: (x: number) => Code;
  loadSplat: (addr: Code, offset?: number) => Code;
  /** Scalar load and store of one element. */
  loadScalar: (addr: Code, offset?: number) => Code;
  storeScalar: (addr: Code, v: Code, offset?: number) => Code;
  /** A scalar constant and scalar addition of the element type. */
  scalarConst: (x: number) => Code;
  scalarAdd: (a: Code, b: Code) => Code;
  eq: (a: Code, b: Code) => Code;
  ne: (a: Code, b: Code) => Code;
  lt: (a: Code, b: Code) => Code;
  gt: (a: Code, b: Code) => Code;
  le: (a: Code, b: Code) => Code;
  ge: (a: Code, b: Code) => Code;
  abs: (a: Code) => Code;
  neg: (a: Code) => Code;
  sqrt: (a: Code) => Code;
  add: (a: Code, b: Code) => Code;
  sub: (a: Code, b: Code) => Code;
  mul: (a: Code, b: Code) => Code;
  div: (a: Code, b: Code) => Code;
  /** Math.min and Math.max semantics: NaN if either is NaN, -0 below +0 (8 instructions on x64). */
  min: (a: Code, b: Code) => Code;
  max: (a: Code, b: Code) => Code;
  /** `b < a ? b : a` and `a < b ? b : a`: one instruction; NaN in `a` propagates. */
  pmin: (a: Code, b: Code) => Code;
  pmax: (a: Code, b: Code) => Code;
  floor: (a: Code) => Code;
  nearest: (a: Code) => Code;
  /** `a * b + c`: relaxed-SIMD fused multiply-add where enabled, else mul then add. */
  madd: (a: Code, b: Code, c: Code) => Code;
}

/** The float SIMD instructions of a dtype; `fma` enables relaxed-SIMD madd. */
export function floatSimd(dtype: "float32" | "float64", fma: boolean): FloatSimd {
  const o = dtype === "float32" ? SHAPES.f32x4 : SHAPES.f64x2;
  const wide = dtype === "float64";
  return {
    lanes: wide ? 2 : 4,
    size: wide ? 8 : 4,
    shift: wide ? 3 : 2,
    splat: sun(o.splat),
    constant: (x) => {
      const bytes = wide
        ? new Uint8Array(Float64Array.of(x, x).buffer)
        : new Uint8Array(Float32Array.of(x, x, x, x).buffer);
      return v128.const(bytes);
    },
    loadSplat: wide ? v128.load64_splat : v128.load32_splat,
    loadScalar: wide ? f64.load : f32.load,
    storeScalar: wide ? f64.store : f32.store,
    scalarConst: wide ? f64.const : f32.const,
    scalarAdd: bin(wide ? 0xa0 : 0x92),
    eq: sbin(o.eq),
    ne: sbin(o.ne),
    lt: sbin(o.lt),
    gt: sbin(o.gt),
    le: sbin(o.le),
    ge: sbin(o.ge),
    abs: sun(o.abs),
    neg: sun(o.neg),
    sqrt: sun(o.sqrt),
    add: sbin(o.add),
    sub: sbin(o.sub),
    mul: sbin(o.mul),
    div: sbin(o.div),
    min: sbin(o.min),
    max: sbin(o.max),
    pmin: sbin(o.pmin),
    pmax: sbin(o.pmax),
    floor: sun(o.floor),
    nearest: sun(o.nearest),
    madd: fma
      ? (a, b, c) => seq(a, b, c, simd(o.madd))
      : (a, b, c) => seq(a, b, simd(o.mul), c, simd(o.add)),
  };
}

/** Atomic read-modify-write on shared memory (threads proposal). */
export const atomic = {
  /** Adds `v` to the i32 at `addr`; pushes the old value. */
  add: (addr: Code, v: Code, offset = 0): Code => seq(addr, v, 0xfe, 0x1e, 2, uleb(offset)),
};

/** Structured control flow. Branch depths count enclosing blocks from the inside. */
export const ctl = {
  block: (...body: Code[]): Code => seq(0x02, 0x40, ...body, 0x0b),
  loop: (...body: Code[]): Code => seq(0x03, 0x40, ...body, 0x0b),
  if: (cond: Code, then: Code[], otherwise?: Code[]): Code =>
    otherwise
      ? seq(cond, 0x04, 0x40, ...then, 0x05, ...otherwise, 0x0b)
      : seq(cond, 0x04, 0x40, ...then, 0x0b),
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  br_if: (depth: number, cond: Code): Code => seq(cond, 0x0c + 1, uleb(depth)),
  return: [0x0f] as Code,
  call: (f: number, ...args: Code[]): Code => seq(...args, 0x10, uleb(f)),
  call_indirect: (type: number, index: Code, ...args: Code[]): Code =>
    seq(...args, index, 0x11, uleb(type), 0x00),
  /** `cond ? a : b` without branching (both are evaluated). */
  select: (a: Code, b: Code, cond: Code): Code => seq(a, b, cond, 0x1b),
};

/**
 * A counted loop: `for (v = from; v < to; v += step) body`, skipped when `from >= to`
 * (signed i32 comparison). `body` runs inside a block and a loop, so a `br` out of it
 * needs its depth plus 2.
 */
export function forRange(v: number, from: Code, to: Code, step: Code, ...body: Code[]): Code {
  return seq(
    local.set(v, from),
    ctl.block(
      ctl.br_if(0, i32.ge_s(local.get(v), to)),
      ctl.loop(
        ...body,
        local.set(v, i32.add(local.get(v), step)),
        ctl.br_if(0, i32.lt_s(local.get(v), to)),
      ),
    ),
  );
}

/** One function being built: typed parameters, then locals added on demand. */
export class Func {
  readonly params: ValType[];
  readonly results: ValType[];
  readonly locals: ValType[] = [];
  body: Code = [];
  #prologue: Code = [];
  #hoisted = new Map<string, number>();

  constructor(params: ValType[], results: ValType[] = []) {
    this.params = params;
    this.results = results;
  }

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  /**
   * `code` (a constant v128 expression) computed once at entry into a local: V8
   * rebuilds a v128.const at every use (3 instructions), a local is a register or a
   * stack slot. Returns code that reads the local.
   */
  hoist(code: Code): Code {
    const key = code.join(",");
    let l = this.#hoisted.get(key);
    if (l === undefined) {
      l = this.local("v128");
      this.#hoisted.set(key, l);
      this.#prologue.push(...local.set(l, code));
    }
    return local.get(l);
  }

  /** Several new locals of one type. */
  localsOf(t: ValType, n: number): number[] {
    return Array.from({ length: n }, () => this.local(t));
  }

  encode(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const decl = seq(uleb(groups.length), ...groups.map(([n, t]) => seq(uleb(n), TYPE_BYTE[t])));
    const code = seq(decl, this.#prologue, this.body, 0x0b);
    return seq(uleb(code.length), code);
  }
}

function vec(items: number[][]): number[] {
  return seq(uleb(items.length), ...items);
}

function section(id: number, content: number[]): number[] {
  return content.length ? seq(id, uleb(content.length), content) : [];
}

/** Bytes prefixed with their length (a subsection). */
function sized(content: number[]): number[] {
  return seq(uleb(content.length), content);
}

function name(s: string): number[] {
  const b = Array.from(new TextEncoder().encode(s));
  return seq(uleb(b.length), b);
}

/** A module importing `env.memory` (shared, 1 to 65536 pages) with a function table. */
export class ModuleBuilder {
  #types: string[] = [];
  #funcs: { type: number; f: Func; exportAs?: string; label?: string }[] = [];
  #table: number[] = [];

  /** Index of the function type `(params) -> results`, added if new. */
  typeOf(params: ValType[], results: ValType[] = []): number {
    const key = `${params.join(",")}>${results.join(",")}`;
    let i = this.#types.indexOf(key);
    if (i < 0) i = this.#types.push(key) - 1;
    return i;
  }

  /**
   * Reserves a function index; its body can be filled in later. `label` names it in
   * the name section (profilers show it) when it is not exported.
   */
  add(f: Func, exportAs?: string, label?: string): number {
    this.#funcs.push({ type: this.typeOf(f.params, f.results), f, exportAs, label });
    return this.#funcs.length - 1;
  }

  /** Puts function `index` into the table; returns its table slot. */
  tableSlot(index: number): number {
    return this.#table.push(index) - 1;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const types = this.#types.map((key) => {
      const [p, r] = key.split(">").map((s) => s ? s.split(",") as ValType[] : []);
      return seq(0x60, vec(p.map((t) => [TYPE_BYTE[t]])), vec(r.map((t) => [TYPE_BYTE[t]])));
    });
    const memory = seq(name("env"), name("memory"), 0x02, 0x03, uleb(1), uleb(65536));
    const exports = this.#funcs.flatMap((f, i) =>
      f.exportAs ? [seq(name(f.exportAs), 0x00, uleb(i))] : []
    );
    const names = this.#funcs.flatMap((f, i) => {
      const label = f.exportAs ?? f.label;
      return label ? [seq(uleb(i), name(label))] : [];
    });
    const table = this.#table.length ? vec([seq(0x70, 0x00, uleb(this.#table.length))]) : [];
    const elems = this.#table.length
      ? vec([seq(0x00, i32.const(0), 0x0b, vec(this.#table.map((i) => uleb(i))))])
      : [];
    return new Uint8Array(seq(
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      section(1, vec(types)),
      section(2, vec([memory])),
      section(3, vec(this.#funcs.map((f) => uleb(f.type)))),
      section(4, table),
      section(7, vec(exports)),
      section(9, elems),
      section(10, vec(this.#funcs.map((f) => f.f.encode()))),
      // The name section (custom): function names for stack traces and profiles.
      section(0, seq(name("name"), 0x01, sized(vec(names)))),
    ));
  }
}
