/**
 * Multilayer perceptrons (document 003): dense layers with biases, relu, sigmoid
 * and tanh activations, a softmax output with a stable cross-entropy or a linear
 * output with the mean squared error, seeded He and Xavier initialisation, SGD with
 * momentum and weight decay, seeded minibatches, training and evaluation. Gradients
 * come from the hand-derived matrix-form backward of document 003 or from autodiff.
 *
 * Samples are rows: X is n x d and W1 is d x h (see lib/mlp/model.ts for the
 * mapping to the document's columns).
 *
 * @module
 */
export { logSoftmax, meanSquaredError, oneHot, softmax, softmaxCrossEntropy } from "./losses.ts";
export {
  type Activation,
  type InitKind,
  initMlp,
  type InitMlpOptions,
  type LossKind,
  type Mlp,
  mlpForward,
  mlpLoss,
  withParams,
} from "./model.ts";
export { type GradMethod, mlpBackward, type MlpGrads, mlpGrads } from "./backward.ts";
export { type Optimizer, sgd, type SgdOptions, type SgdState } from "./sgd.ts";
export { batchOf, type Dataset, minibatches } from "./data.ts";
export { accuracy, evaluateMlp, type Evaluation } from "./evaluate.ts";
export {
  type EpochInfo,
  type StepInfo,
  trainMlp,
  type TrainOptions,
  type TrainResult,
} from "./train.ts";
