// Every layer simdnet has. Loading this file registers them all for Model.fromConfig and model
// files; adding a layer means its file, its kernels and one line here.

export {
  Layer, SymbolicTensor, resetNames, sizeOf, type LayerArgs, type LayerBuffers, type Shape, type StepContext, type StepWork, type SumRequest,
} from './layer.js';
export { registerLayer, layerClass, registeredLayers, type LayerClass } from './registry.js';
export { input, InputLayer, type InputArgs } from './input.js';
export { Conv2D, type Conv2DArgs } from './conv2d.js';
export { Dense, type DenseArgs } from './dense.js';
export { BatchNormalization, type BatchNormalizationArgs } from './batch-normalization.js';
export { Activation, ReLU, type ActivationArgs, type ReLUArgs } from './activation.js';
export { Add } from './add.js';
export { Concatenate, type ConcatenateArgs } from './concatenate.js';
export { DepthwiseConv2D, type DepthwiseConv2DArgs } from './depthwise-conv2d.js';
export { SeparableConv2D, type SeparableConv2DArgs } from './separable-conv2d.js';
export { Rescaling, type RescalingArgs } from './rescaling.js';
export { ZeroPadding2D, type ZeroPadding2DArgs } from './zero-padding2d.js';
export { MaxPooling2D, AveragePooling2D, type Pooling2DArgs } from './pooling2d.js';
export { GlobalAveragePooling2D, GlobalMaxPooling2D } from './global-pooling2d.js';
export { Flatten } from './flatten.js';
export { Dropout, type DropoutArgs } from './dropout.js';
export { LayerNormalization, type LayerNormalizationArgs } from './layer-normalization.js';
