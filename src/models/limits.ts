/**
 * Caps on what a model may take, checked before any memory is taken: by the model builders and
 * the Model constructor, and by model files before they are read.
 */
export const MAX_INPUT_VALUES = 2 ** 24;  // per sample: 2048 x 2048 x 4
export const MAX_WEIGHTS = 2 ** 28;       // 1 GiB of float32
