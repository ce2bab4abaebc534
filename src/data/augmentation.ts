// Data augmentation for image training sets, applied on the fly as a batch is read: a random
// flip, rotation, zoom and translation (one bilinear warp), then brightness, contrast,
// saturation and hue jitter, then random erasing. Every draw is a function of (seed, epoch,
// image index), so a run does not depend on the number of workers and a resumed run sees the
// same images. Option names follow Keras's preprocessing layers where one exists.

import { ArgumentError, describe } from '../errors.js';
import { fmix32 } from '../layers/initializers.js';
import { unitFloatsFromBytes } from '../kernels/unit-floats.js';
import { handBox, withClutter } from './background.js';

export interface AugmentationOptions {
  /** Keras RandomFlip: 'horizontal' mirrors half the images left-right. Default none. */
  flip?: 'horizontal' | 'none';
  /** Keras RandomRotation: the largest rotation, as a fraction of a full turn (0.05 = 18 degrees). Default 0. */
  rotation?: number;
  /** Keras RandomZoom: the largest change of scale, as a fraction (0.2 = 0.8x to 1.2x). Default 0. */
  zoom?: number;
  /** Keras RandomTranslation: the largest shift, as a fraction of the size. Default 0. */
  translation?: number;
  /** Keras RandomBrightness: the largest change of brightness, as a fraction of full scale. Default 0. */
  brightness?: number;
  /** Keras RandomContrast: the largest change of contrast, as a factor range 1 +- contrast. Default 0. */
  contrast?: number;
  /** Saturation jitter: 1 +- saturation. Default 0. */
  saturation?: number;
  /** Hue jitter: the largest shift of hue, as a fraction of the colour wheel. Default 0. */
  hue?: number;
  /** Random erasing: the probability of blanking one rectangle (2-25% of the image) with noise. Default 0. */
  erasing?: number;
  /** Keras RandomGrayscale: the probability of turning the image grey. Default 0. */
  grayscale?: number;
  /** The probability of replacing the background outside the hand's bounding box with random shapes and colours (see src/data/background.ts; for SIGNS-like photos of a hand against a plain wall). Default 0. */
  background?: number;
  /** Keras GaussianNoise: the largest standard deviation of the noise added to every channel value, as a fraction of full scale (each image draws its own from 0 up to it). Default 0. */
  noise?: number;
  /**
   * The probability of an Inception-style random resized crop (torchvision's RandomResizedCrop,
   * Keras CV's RandomCropAndResize): a crop of `randomResizedCropArea` to 100% of the area with an
   * aspect ratio of 3/4 to 4/3, anywhere in the image, stretched to the whole frame; it takes the
   * place of zoom and translation for that image (flip and rotation still apply). Close-ups and
   * cut wrists. Default 0.
   */
  randomResizedCrop?: number;
  /**
   * The smallest area of a random resized crop, as a fraction of the image (torchvision's
   * `scale[0]`, Keras CV's `crop_area_factor[0]`); the area is drawn uniformly from it to 1.
   * Default 0.25.
   */
  randomResizedCropArea?: number;
  /** Colour temperature: red and blue gains of 1 +- this, in opposite directions (warm or cool light). Default 0. */
  colorTemperature?: number;
  /**
   * Keras CV's MixUp (and timm's mixup_alpha): each image blended with another of the set, both
   * augmented, by a weight drawn from Beta(alpha, alpha), and so are their labels. 0: off. Default 0
   * (Keras CV's own default alpha is 0.2).
   */
  mixup?: number;
  /**
   * Keras CV's CutMix (timm's cutmix_alpha): a box of another image pasted in, its area drawn
   * from Beta(alpha, alpha), the labels mixed by the areas. With mixup too, each image gets one
   * or the other, half and half. 0: off. Default 0 (Keras CV's own default alpha is 1).
   */
  cutmix?: number;
  /** The probability that an image is augmented at all. Default 1. */
  probability?: number;
}

/** The robust recipe's augmentation: the shifts a photo from another camera brings. */
export const ROBUST_AUGMENTATION: AugmentationOptions = {
  flip: 'horizontal', rotation: 0.06, zoom: 0.25, translation: 0.15, brightness: 0.35, contrast: 0.35,
  saturation: 0.4, hue: 0.04, erasing: 0.3, probability: 1,
};

/** For small networks: the same kinds of shift, smaller. */
export const MILD_AUGMENTATION: AugmentationOptions = {
  flip: 'horizontal', rotation: 0.03, zoom: 0.1, translation: 0.08, brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.02, erasing: 0, probability: 1,
};

export function checkAugmentation(a: AugmentationOptions): AugmentationOptions {
  const fraction = (name: keyof AugmentationOptions, max = 1) => {
    const v = a[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= max)) throw new ArgumentError(`augmentation ${name} must be a number from 0 to ${max}, got ${describe(v)}`);
  };
  for (const k of ['rotation', 'zoom', 'translation', 'brightness', 'contrast', 'saturation', 'hue', 'erasing', 'grayscale', 'background', 'noise', 'probability',
    'randomResizedCrop', 'colorTemperature'] as const) fraction(k);
  const area = a.randomResizedCropArea;
  if (area !== undefined && !(typeof area === 'number' && area > 0 && area <= 1)) {
    throw new ArgumentError(`augmentation randomResizedCropArea must be a number above 0 and at most 1, got ${describe(area)}`);
  }
  for (const k of ['mixup', 'cutmix'] as const) fraction(k, 10);
  if (a.flip !== undefined && a.flip !== 'horizontal' && a.flip !== 'none') throw new ArgumentError(`augmentation flip must be "horizontal" or "none", got ${describe(a.flip)}`);
  return a;
}

// A stream of uniforms in [0, 1) determined by (seed, epoch, image).
function draws(seed: number, epoch: number, image: number): () => number {
  let h = fmix32((fmix32((seed ^ 0x68bc21eb) >>> 0) + Math.imul(epoch + 1, 0x9e3779b1) + Math.imul(image + 1, 0x85ebca6b)) >>> 0);
  return () => {
    h = fmix32((h + 0x6d2b79f5) >>> 0);
    return h / 4294967296;
  };
}

export interface Warp { flip?: boolean; angle?: number; scale?: number; tx?: number; ty?: number; stretch?: number }

/**
 * dst (float32 in [0, 1]) = src (uint8, H x W x 3) flipped, rotated by `angle` (radians), scaled
 * by `scale` (times `stretch` across, divided by it down) and shifted by (tx, ty) pixels about the
 * centre; bilinear, with the nearest edge pixel outside the image (Keras's fill_mode "nearest").
 */
export function warp(src: Uint8Array, H: number, W: number, dst: Float32Array, w: Warp): void {
  const scale = w.scale ?? 1, angle = w.angle ?? 0, tx = w.tx ?? 0, ty = w.ty ?? 0;
  const kx = 1 / (w.stretch ?? 1), ky = w.stretch ?? 1; // 1 and 1 without a stretch: the same values as before it
  // The inverse map from output to input pixel: x_in = c + R^-1 S^-1 (x_out - c - t), flipped.
  const cos = Math.cos(angle) / scale, sin = Math.sin(angle) / scale;
  const cx = (W - 1) / 2, cy = (H - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const xo = ((w.flip ? W - 1 - x : x) - cx - tx) * kx, yo = (y - cy - ty) * ky;
      const xi = cx + cos * xo + sin * yo, yi = cy - sin * xo + cos * yo;
      const xc = Math.min(Math.max(xi, 0), W - 1), yc = Math.min(Math.max(yi, 0), H - 1);
      const x0 = Math.floor(xc), y0 = Math.floor(yc), x1 = Math.min(x0 + 1, W - 1), y1 = Math.min(y0 + 1, H - 1);
      const wx = xc - x0, wy = yc - y0;
      const o = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => src[(yy * W + xx) * 3 + c];
        dst[o + c] = ((p(y0, x0) * (1 - wx) + p(y0, x1) * wx) * (1 - wy) + (p(y1, x0) * (1 - wx) + p(y1, x1) * wx) * wy) / 255;
      }
    }
  }
}

/** Writes image `src` (uint8, H x W x 3) augmented into `dst` as float32 in [0, 1]. */
export function augmentImage(src: Uint8Array, H: number, W: number, dst: Float32Array, a: AugmentationOptions, seed: number, epoch: number, image: number): void {
  const u = draws(seed, epoch, image);
  const sym = (r: number) => (2 * u() - 1) * r;
  if (u() >= (a.probability ?? 1)) {
    unitFloatsFromBytes(src.subarray(0, H * W * 3), dst);
    return;
  }
  // The background draws from a stream of its own, so the other options' draws (and the runs
  // measured with them) stay as they were.
  if ((a.background ?? 0) > 0) {
    const v = draws(seed ^ 0x1b873593, epoch, image);
    if (v() < a.background!) src = withClutter(src, H, W, handBox(src, H, W), v);
  }
  const flip = a.flip === 'horizontal' && u() < 0.5;
  const angle = sym((a.rotation ?? 0) * 2 * Math.PI);
  let scale = 1 + sym(a.zoom ?? 0);
  let tx = sym(a.translation ?? 0) * W, ty = sym(a.translation ?? 0) * H;
  let stretch: number | undefined;
  // The crop and the colour temperature draw from streams of their own, like the background.
  if ((a.randomResizedCrop ?? 0) > 0) {
    const v = draws(seed ^ 0x27d4eb2f, epoch, image);
    if (v() < a.randomResizedCrop!) {
      const least = a.randomResizedCropArea ?? 0.25;
      const area = least + (1 - least) * v(), aspect = Math.exp(Math.log(3 / 4) + v() * Math.log(16 / 9));
      const cw = Math.min(W, W * Math.sqrt(area * aspect)), chh = Math.min(H, H * Math.sqrt(area / aspect));
      const ccx = cw / 2 + v() * (W - cw) - 0.5, ccy = chh / 2 + v() * (H - chh) - 0.5;
      const sx = W / cw, sy = H / chh;
      scale = Math.sqrt(sx * sy);
      stretch = Math.sqrt(sx / sy);
      tx = -sx * (ccx - (W - 1) / 2);
      ty = -sy * (ccy - (H - 1) / 2);
    }
  }
  warp(src, H, W, dst, { flip, angle, scale, tx, ty, stretch });
  if ((a.colorTemperature ?? 0) > 0) {
    const t = (2 * draws(seed ^ 0x165667b1, epoch, image)() - 1) * a.colorTemperature!;
    for (let i = 0; i < H * W; i++) {
      dst[3 * i] = Math.min(1, dst[3 * i] * (1 + t));
      dst[3 * i + 2] = Math.min(1, dst[3 * i + 2] * (1 - t));
    }
  }
  const brightness = sym(a.brightness ?? 0), contrast = 1 + sym(a.contrast ?? 0);
  const saturation = 1 + sym(a.saturation ?? 0), hue = sym(a.hue ?? 0) * 2 * Math.PI;
  const n = H * W;
  let mean = 0;
  for (let i = 0; i < n * 3; i++) mean += dst[i];
  mean /= n * 3;
  // Hue as a rotation about the grey axis (the YIQ rotation), in place on each pixel.
  const ch = Math.cos(hue), sh = Math.sin(hue);
  for (let i = 0; i < n; i++) {
    let r = dst[3 * i], g = dst[3 * i + 1], b = dst[3 * i + 2];
    if (hue !== 0) {
      const Y = 0.299 * r + 0.587 * g + 0.114 * b, I = 0.596 * r - 0.274 * g - 0.322 * b, Q = 0.211 * r - 0.523 * g + 0.312 * b;
      const I2 = I * ch - Q * sh, Q2 = I * sh + Q * ch;
      r = Y + 0.956 * I2 + 0.621 * Q2; g = Y - 0.272 * I2 - 0.647 * Q2; b = Y - 1.106 * I2 + 1.703 * Q2;
    }
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    r = grey + (r - grey) * saturation; g = grey + (g - grey) * saturation; b = grey + (b - grey) * saturation;
    const fix = (v: number) => Math.min(1, Math.max(0, (v - mean) * contrast + mean + brightness));
    dst[3 * i] = fix(r); dst[3 * i + 1] = fix(g); dst[3 * i + 2] = fix(b);
  }
  if (u() < (a.erasing ?? 0)) {
    const area = (0.02 + 0.23 * u()) * n, aspect = Math.exp(sym(Math.log(3)));
    const eh = Math.min(H, Math.max(1, Math.round(Math.sqrt(area * aspect)))), ew = Math.min(W, Math.max(1, Math.round(Math.sqrt(area / aspect))));
    const y0 = Math.floor(u() * (H - eh + 1)), x0 = Math.floor(u() * (W - ew + 1));
    for (let y = y0; y < y0 + eh; y++) for (let x = x0; x < x0 + ew; x++) for (let c = 0; c < 3; c++) dst[(y * W + x) * 3 + c] = u();
  }
  // Grey and noise draw last, and only when asked for, so the other options' draws (and the runs
  // measured with them) stay as they were.
  if ((a.grayscale ?? 0) > 0 && u() < a.grayscale!) {
    for (let i = 0; i < n; i++) {
      const grey = 0.299 * dst[3 * i] + 0.587 * dst[3 * i + 1] + 0.114 * dst[3 * i + 2];
      dst[3 * i] = grey; dst[3 * i + 1] = grey; dst[3 * i + 2] = grey;
    }
  }
  if ((a.noise ?? 0) > 0) {
    // Box-Muller, two normals a pair of uniforms; sd drawn per image up to `noise`.
    const sd = u() * a.noise!;
    for (let i = 0; i < n * 3; i += 2) {
      const r = sd * Math.sqrt(-2 * Math.log(1 - u())), t = 2 * Math.PI * u();
      dst[i] = Math.min(1, Math.max(0, dst[i] + r * Math.cos(t)));
      if (i + 1 < n * 3) dst[i + 1] = Math.min(1, Math.max(0, dst[i + 1] + r * Math.sin(t)));
    }
  }
}

// A Gamma(shape, 1) draw from uniforms (Marsaglia and Tsang; shape < 1 by Gamma(shape + 1) * U^(1/shape)).
function gamma(shape: number, u: () => number): number {
  if (shape < 1) return gamma(shape + 1, u) * Math.pow(1 - u(), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const w = 1 - u();
    if (Math.log(w) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** How one training image is mixed with another (MixUp or CutMix): the partner, and the box pasted from it (CutMix). */
export interface Mix {
  partner: number;
  /** The weight of the image's own label (and of its pixels, for MixUp). */
  lambda: number;
  /** CutMix: the rows [top, bottom) and columns [left, right) taken from the partner. */
  box?: { top: number; bottom: number; left: number; right: number };
}

/** The mix of image `image` of a set of `size` at (seed, epoch), or none; its own stream, so the other options' draws stay as they were. */
export function mixFor(a: AugmentationOptions, seed: number, epoch: number, image: number, size: number, H: number, W: number): Mix | undefined {
  const mixup = a.mixup ?? 0, cutmix = a.cutmix ?? 0;
  if ((mixup <= 0 && cutmix <= 0) || size < 2) return undefined;
  const u = draws(seed ^ 0x4cf5ad43, epoch, image);
  const useCutmix = cutmix > 0 && (mixup <= 0 || u() < 0.5);
  const alpha = useCutmix ? cutmix : mixup;
  const g1 = gamma(alpha, u), g2 = gamma(alpha, u);
  const lambda = g1 / (g1 + g2 || 1);
  let partner = Math.floor(u() * (size - 1));
  if (partner >= image) partner++; // another image
  if (!useCutmix) return { partner, lambda };
  const ch = Math.round(H * Math.sqrt(1 - lambda)), cw = Math.round(W * Math.sqrt(1 - lambda));
  const cy = Math.floor(u() * H), cx = Math.floor(u() * W);
  const top = Math.max(0, cy - (ch >> 1)), bottom = Math.min(H, cy - (ch >> 1) + ch);
  const left = Math.max(0, cx - (cw >> 1)), right = Math.min(W, cx - (cw >> 1) + cw);
  // The labels follow the area actually pasted (the box may be clipped at the edges).
  return { partner, lambda: 1 - ((bottom - top) * (right - left)) / (H * W), box: { top, bottom, left, right } };
}
