import { describe, expect, test } from 'vitest';
import { resNet50, convNet } from '../../src/index.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sharedDir } from '../helpers/goldens.js';

describe('summary', () => {
  test('ResNet-50 has the tutorial\'s parameter counts and layer names', () => {
    const model = resNet50();
    const text = model.summary({ printFn: null });
    const lines = text.split('\n');
    expect(lines.slice(-4, -1)).toEqual(['Total params: 23,600,006', 'Trainable params: 23,546,886', 'Non-trainable params: 53,120']);
    expect(model.countParams()).toBe(23_600_006);
    // Every named layer of the article's Keras summary, with its output shape and parameter count.
    const article = readFileSync(resolve(sharedDir, 'reference/article.txt'), 'utf8');
    const rows = [...article.matchAll(/^((?:res|bn|conv|fc|avg_)\S*) \((\w+)\)?\s+\(None, ([\d, ]+)\)\s+(\d+)/gm)];
    expect(rows.length).toBe(108); // 53 convolutions, 53 batch norms, avg_pool, fc6
    for (const [, name, , shape, params] of rows) {
      const layer = model.getLayer(name);
      expect(layer.outputShape.join(', '), name).toBe(shape.trim());
      expect(layer.countParams(), name).toBe(Number(params));
    }
    expect(text).toMatch(/^bn2a_branch2a \(BatchNormalizatio \(None, 15, 15, 64\)\s+256\s+res2a_branch2a\[0\]\[0\]$/m);
    expect(text).toMatch(/^add_\d+ \(Add\)\s+\(None, 15, 15, 256\)\s+0\s+bn2a_branch2c\[0\]\[0\]\n\s+bn2a_branch1\[0\]\[0\]$/m);
  });

  test('ConvNet layers, shapes and parameters', () => {
    const model = convNet();
    expect(model.layers.map((l) => [l.className, l.outputShape.join('x'), l.countParams()])).toEqual([
      ['InputLayer', '64x64x3', 0], ['Conv2D', '64x64x8', 384], ['Activation', '64x64x8', 0], ['MaxPooling2D', '8x8x8', 0],
      ['Conv2D', '8x8x16', 512], ['Activation', '8x8x16', 0], ['MaxPooling2D', '2x2x16', 0], ['Flatten', '64', 0], ['Dense', '6', 390],
    ]);
    expect(Object.keys(model.getWeights())).toEqual(['W1/kernel', 'W2/kernel', 'fc/kernel', 'fc/bias']);
  });
});
