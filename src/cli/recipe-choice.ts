// --model: one of the tutorial's recipes by name.
import { recipes, type Recipe } from '../recipes/recipes.js';
import { UsageError } from './options.js';

export function recipe(name: string | undefined): Recipe {
  if (name === undefined) throw new UsageError('--model is required (convnet, resnet50 or mobilenetv2)');
  const r = Object.hasOwn(recipes, name.toLowerCase()) ? recipes[name.toLowerCase()] : undefined;
  if (!r) throw new UsageError(`unknown model "${name}" (expected convnet, resnet50 or mobilenetv2)`);
  return r;
}
