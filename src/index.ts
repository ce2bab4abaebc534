// simdnet: train convolutional networks in Node.js on WebAssembly SIMD kernels.

export { Tensor, tensor } from './tensor.js';
export { input, InputLayer } from './layers/input.js';
export { Conv2D, type Conv2DArgs } from './layers/conv2d.js';
export { Dense, type DenseArgs } from './layers/dense.js';
export { BatchNormalization, type BatchNormalizationArgs } from './layers/batch-normalization.js';
export { Activation, ReLU } from './layers/activation.js';
export { Add } from './layers/add.js';
export { ZeroPadding2D } from './layers/zero-padding2d.js';
export { MaxPooling2D, AveragePooling2D, type Pooling2DArgs } from './layers/pooling2d.js';
export { GlobalAveragePooling2D, GlobalMaxPooling2D } from './layers/global-pooling2d.js';
export { Flatten } from './layers/flatten.js';
export { Layer, SymbolicTensor, resetNames as clearSession, type Shape } from './layers/layer.js';
export { initializers, hashUniform, GlorotUniform, type Initializer } from './layers/initializers.js';
export { Model, type CompileArgs, type FitArgs, type EvaluateArgs } from './models/model.js';
export type { ModelConfig } from './models/config.js';
export { convNet, type ConvNetArgs } from './models/convnet.js';
export { resNet50, identityBlock, convolutionalBlock, type ResNet50Args } from './models/resnet50.js';
export { Adam, SGD, optimizers, type Optimizer } from './training/optimizers.js';
export { History, type Callback, type Logs } from './training/callbacks.js';
export { Runtime } from './kernels/index.js';
export { loadSigns, loadSignsFile, findSignsDir, oneHot, type SignsData, type LabeledImages } from './data/signs.js';
export { decodeImage, loadImages, loadImageFolder } from './data/images.js';
export { saveModel, loadModel, loadWeights, type TrainingState } from './io/model-file.js';
export { profileTrainingStep, type StepProfile } from './training/profiler.js';
