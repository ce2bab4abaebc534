// The library as every platform has it: index.ts (Node, Bun, Deno) adds the prediction server,
// browser.ts a page's settings.

export { Tensor, tensor } from './tensor.js';
export {
  SimdnetError, ArgumentError, FileError, DataFileError, ModelFileError, WorkerFailure, NonFiniteLossError, NonFiniteOutputError, AbortedError,
} from './errors.js';
export * from './layers/index.js';
export { resetNames as clearSession } from './layers/layer.js';
export { initializers, hashUniform, GlorotUniform, type Initializer, type InitializerSpec } from './layers/initializers.js';
export { Model, type ModelArgs, type CompileArgs, type FitArgs, type EvaluateArgs, type RunArgs } from './models/model.js';
export type { ModelConfig } from './engine/graph-config.js';
export { convNet, type ConvNetArgs } from './models/convnet.js';
export { resNet50, identityBlock, convolutionalBlock, type ResNet50Args } from './models/resnet50.js';
export { mobileNetV2, invertedResidualBlock, makeDivisible, type MobileNetV2Args } from './models/mobilenetv2.js';
export { Adam, SGD, optimizers, type Optimizer } from './training/optimizers.js';
export { CategoricalCrossentropy, losses, type Loss, type CategoricalCrossentropyArgs } from './training/losses.js';
export { History, type Callback, type Logs } from './training/callbacks.js';
export { fitTemperature, expectedCalibrationError, withTemperature } from './training/calibration.js';
export { Runtime } from './kernels/index.js';
export { setConvAlgorithm, type ConvAlgorithm, type ConvAlgorithmChoice } from './kernels/conv-algorithm.js';
export { setGemmBlocking, type GemmBlocking } from './kernels/gemm-blocking.js';
export { loadSigns, loadSignsFile, findSignsDir, type SignsData, type LabeledImages } from './data/signs.js';
export { ImageSet, oneHot } from './data/image-set.js';
export { TensorDataset, type Dataset } from './training/dataset.js';
export { decodeImage, decodeImageSource, loadImages, readImages, type ImageSource, type RgbImage } from './data/images.js';
export type { FileSource } from './io/file-source.js';
export { loadImageFolder, type ImageFolderOptions, type LoadedImageFolder } from './data/image-folder.js';
export { saveModel, loadModel, loadWeights, type TrainingState, type LoadModelOptions, type LoadWeightsOptions } from './io/model-file.js';
export { exportOnnx, saveOnnx, registerOnnxExporter, type OnnxExportOptions, type OnnxContext, type LayerExporter } from './io/onnx-export.js';
export { profilePredictStep, profileTrainingStep, type ProfileOptions, type StepProfile } from './models/profiler.js';
export { runtimeInfo, type RuntimeInfo } from './models/runtime-info.js';
export { recipes, compileRecipe, TUTORIAL, type Recipe, type Settings as RecipeSettings } from './recipes/recipes.js';
export { fitRecipe, holdOut, type RecipeFitOptions, type RecipeFitResult } from './recipes/recipe-fit.js';
export { predictWithTta, ttaViews, TTA_CROP } from './recipes/tta.js';
export { calibrateTemperature } from './recipes/calibrate.js';
export { VERSION } from './version.js';
