/**
 * # matcalc
 *
 * Matrix calculus and backpropagation for Deno: immutable matrices (float64 by
 * default, float32 too), differentiable ops, JAX-style reverse- and forward-mode
 * autodiff to check hand-derived gradients, and pluggable compute kernels (pure
 * TypeScript by default, WebGPU on request).
 *
 * ```ts
 * import { grad, matmul, Matrix, relu, square, sub, sum } from "./mod.ts";
 *
 * // f(W) = ||max(XW, 0) - Y||_F^2 and its gradient with respect to W
 * const X = Matrix.from([[1, -2], [3, 4]]);
 * const Y = Matrix.from([[0, 1], [1, 0]]);
 * const f = (W: Matrix) => sum(square(sub(relu(matmul(X, W)), Y)));
 * const dW = grad(f)(Matrix.eye(2));
 * console.log(dW.toString());
 * ```
 *
 * This file only re-exports; see each function's documentation.
 *
 * @module
 */
export { Matrix, type MatrixOptions, tidy } from "./lib/matrix.ts";
export { type NormalOptions, Random, type UniformOptions } from "./lib/random.ts";
export type {
  BinaryOp,
  BroadcastShapes,
  DType,
  HostArray,
  Kernel,
  MatmulSizes,
  ReduceAxis,
  ReduceOp,
  Storage,
  UnaryOp,
} from "./lib/kernel.ts";
export { BINARY_OPS, DTYPES, REDUCE_OPS, UNARY_OPS } from "./lib/kernel.ts";
export { currentKernel, kernelNames, loadKernel, useKernel } from "./lib/registry.ts";
export {
  abs,
  add,
  astype,
  type AxisOptions,
  div,
  equal,
  exp,
  gemm,
  type GemmOptions,
  greater,
  greaterEqual,
  log,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  reciprocal,
  relu,
  reshape,
  scale,
  sigmoid,
  sign,
  sqrt,
  square,
  step,
  sub,
  sum,
  tanh,
  transpose,
} from "./lib/ops/mod.ts";
export {
  grad,
  jacobian,
  type JacobianOptions,
  jvp,
  type MatrixFn,
  valueAndGrad,
  vjp,
} from "./lib/autodiff.ts";
export {
  gradcheck,
  type GradcheckEntry,
  type GradcheckOptions,
  type GradcheckReport,
} from "./lib/gradcheck.ts";
export { epsOf, gradTolerance } from "./lib/tolerance.ts";
export { commutation, diag, diagonal, kron, unvec, vec } from "./lib/kronecker.ts";
export { compose, DenseOp, DiagOp, IdentityOp, KronOp, type LinearOp } from "./lib/linear_op.ts";
export {
  type Check,
  checkScalar,
  compare,
  formatChecks,
  gradcheckCheck,
} from "./lib/experiments/check.ts";
export {
  reluGradDocument,
  reluGradRandom,
  type ReluGradRandomOptions,
  type ReluGradResult,
  reluLoss,
  reluLossHandGrads,
} from "./lib/experiments/relu_grad.ts";
export {
  xorExperiment,
  type XorOptions,
  type XorResult,
  type XorStep,
  xorSteps,
  type XorWeights,
} from "./lib/experiments/xor.ts";
export {
  accuracy,
  type Activation,
  batchOf,
  type Dataset,
  type EpochInfo,
  evaluateMlp,
  type Evaluation,
  type GradMethod,
  type InitKind,
  initMlp,
  type InitMlpOptions,
  logSoftmax,
  type LossKind,
  meanSquaredError,
  minibatches,
  type Mlp,
  mlpBackward,
  mlpForward,
  type MlpGrads,
  mlpGrads,
  mlpLoss,
  oneHot,
  type Optimizer,
  sgd,
  type SgdOptions,
  type SgdState,
  softmax,
  softmaxCrossEntropy,
  type StepInfo,
  trainMlp,
  type TrainOptions,
  type TrainResult,
  withParams,
} from "./lib/mlp/mod.ts";
export {
  mnistMlpExperiment,
  type MnistMlpOptions,
  type MnistMlpResult,
} from "./lib/experiments/mnist_mlp.ts";
export { hstack, slice, type SliceOptions, vstack } from "./lib/ops/stack.ts";
export { ComplementOp, orthcomp, projectOut } from "./lib/orthcomp.ts";
export { svd, type SvdOptions, type SvdResult } from "./lib/svd.ts";
export {
  svdBackpropExperiment,
  type SvdBackpropOptions,
  type SvdBackpropResult,
  townsendAbar,
} from "./lib/experiments/svd_backprop.ts";
export {
  qr,
  type QrOptions,
  type QrResult,
  triangularSolve,
  type TriangularSolveOptions,
} from "./lib/qr.ts";
export {
  escapeHtml,
  type MatrixDisplayOptions,
  type MatrixHeader,
  matrixMimeBundle,
  type MimeBundle,
  toMimeBundle,
} from "./lib/display.ts";
export {
  type JupyterBroadcaster,
  jupyterKernel,
  type ProgressDisplay,
  progressDisplay,
  type ProgressOptions,
} from "./lib/progress.ts";
export {
  type ChartOptions,
  heatmap,
  type HeatmapOptions,
  lineChart,
  type LineChartOptions,
  plotToFile,
  type Series,
  spectrumChart,
  type SpectrumOptions,
  SvgImage,
} from "./lib/plot/mod.ts";
export {
  type IdxArray,
  loadMnist,
  type LoadMnistOptions,
  type MnistData,
  mnistDataDir,
  type MnistSplit,
  parseIdx,
  readIdx,
} from "./lib/mnist.ts";
