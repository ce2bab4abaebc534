// The options the tutorial's two models (convNet, resNet50) share.

import type { Runtime } from '../kernels/index.js';

export interface TutorialModelArgs {
  /** One sample's shape. Default [64, 64, 3] (SIGNS). */
  inputShape?: number[];
  /** Number of classes of the classifier. Default 6. */
  classes?: number;
  /** Seed of the initial weights; 0 gives the goldens' portable initializer. Default 0. */
  seed?: number;
  /** The kernels and memory to use. Default: the model's own. */
  runtime?: Runtime;
  /** A Dropout of this rate before the classifier (the robust recipe's). Default 0: none, as in the tutorial. */
  dropout?: number;
  /**
   * Standardize each image first (zero mean, unit variance over its pixels and channels: a
   * LayerNormalization named `standardize`, without parameters), as the robust recipe does.
   * Default false, as in the tutorial.
   */
  standardizeImages?: boolean;
}
