// The validation split that picks a recipe's best epoch (holdOut; the CLI's --validation-split).
import { describe, expect, test } from 'vitest';

describe('the held-out validation split (holdOut, --validation-split)', () => {
  test('a seeded shuffle: classes mixed, the same for a seed, another for another seed, disjoint from training', async () => {
    const { holdOut } = await import('../../src/recipes/recipe-fit.js');
    const { ImageSet } = await import('../../src/data/image-set.js');
    // 60 images sorted by class, as folders give them; image i's first pixel is i.
    const set = new ImageSet(Uint8Array.from({ length: 60 * 3 }, (_, i) => Math.floor(i / 3)), [60, 1, 1, 3], Int32Array.from({ length: 60 }, (_, i) => Math.floor(i / 20)), ['a', 'b', 'c']);
    const ids = (s: InstanceType<typeof ImageSet>) => Array.from({ length: s.size }, (_, i) => s.pixels[3 * i]);
    const a = holdOut(set, 0.25, 1), again = holdOut(set, 0.25, 1), other = holdOut(set, 0.25, 2);
    expect(a.validation!.size).toBe(15);
    expect(ids(again.validation!)).toEqual(ids(a.validation!));
    expect(ids(other.validation!)).not.toEqual(ids(a.validation!));
    expect(new Set(Array.from(a.validation!.labels)).size).toBe(3);
    const train = new Set(ids(a.train));
    expect(ids(a.validation!).some((i) => train.has(i))).toBe(false);
    expect(train.size + 15).toBe(60);
  });
});
