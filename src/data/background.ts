// The background of a SIGNS-like photo: where the hand is, and random clutter to put around it.
//
// SIGNS photographs a hand (and forearm) against a plain, pale wall. Skin is warmer than such a
// wall: red well above blue, and above green. The rows and columns that hold at least two such
// pixels bound the hand and arm; a margin makes the box generous, so that whatever is pasted
// outside it never covers a finger. A photo without that much skin gets the whole image as its
// box (nothing is pasted). This is a heuristic for SIGNS's kind of photo, not a hand detector:
// it is what the robustness suite's cluttered-background shift and the `background`
// augmentation use. Checked by eye on all 120 SIGNS test images: every box held its whole hand
// (in a few, the forearm runs on past the box toward the image edge).

export interface Box { top: number; left: number; bottom: number; right: number } // bottom, right exclusive

const SKIN_RED_OVER_BLUE = 25;
const MIN_PIXELS = 2;   // per row and column: a stray warm pixel does not stretch the box
const MIN_SIDE = 6;     // a box smaller than this is no hand

export function handBox(src: Uint8Array, H: number, W: number, margin = 2): Box {
  const rows = new Int32Array(H), cols = new Int32Array(W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3, r = src[o], g = src[o + 1], b = src[o + 2];
      if (r - b > SKIN_RED_OVER_BLUE && r > g) { rows[y]++; cols[x]++; }
    }
  }
  const first = (a: Int32Array) => a.findIndex((v) => v >= MIN_PIXELS);
  const last = (a: Int32Array) => a.length - 1 - [...a].reverse().findIndex((v) => v >= MIN_PIXELS);
  const top = first(rows), left = first(cols);
  if (top < 0 || left < 0) return { top: 0, left: 0, bottom: H, right: W };
  const bottom = last(rows) + 1, right = last(cols) + 1;
  if (bottom - top < MIN_SIDE || right - left < MIN_SIDE) return { top: 0, left: 0, bottom: H, right: W };
  return { top: Math.max(0, top - margin), left: Math.max(0, left - margin), bottom: Math.min(H, bottom + margin), right: Math.min(W, right + margin) };
}

/**
 * `src` with every pixel outside `box` replaced by clutter: a random base colour under 8-23
 * random shapes (rectangles, discs, bars), each a random colour; `u` draws uniforms in [0, 1).
 */
export function withClutter(src: Uint8Array, H: number, W: number, box: Box, u: () => number): Uint8Array {
  const out = src.slice();
  const colour = () => [Math.floor(256 * u()), Math.floor(256 * u()), Math.floor(256 * u())];
  // Colour c on the pixels outside the box, within rows y0..y1 and columns x0..x1, that `inside` takes.
  const paint = (c: number[], inside: (y: number, x: number) => boolean, y0 = 0, y1 = H - 1, x0 = 0, x1 = W - 1) => {
    for (let y = Math.max(0, Math.ceil(y0)); y <= Math.min(H - 1, Math.floor(y1)); y++) {
      for (let x = Math.max(0, Math.ceil(x0)); x <= Math.min(W - 1, Math.floor(x1)); x++) {
        if (y >= box.top && y < box.bottom && x >= box.left && x < box.right) continue;
        if (inside(y, x)) out.set(c, (y * W + x) * 3);
      }
    }
  };
  paint(colour(), () => true);
  const shapes = 8 + Math.floor(16 * u());
  for (let s = 0; s < shapes; s++) {
    const kind = u(), c = colour();
    const cy = u() * H, cx = u() * W, ry = (0.05 + 0.25 * u()) * H, rx = (0.05 + 0.25 * u()) * W;
    if (kind < 0.4) paint(c, () => true, cy - ry, cy + ry, cx - rx, cx + rx);
    else if (kind < 0.8) paint(c, (y, x) => ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1, cy - ry, cy + ry, cx - rx, cx + rx);
    else {
      // A bar at a random angle, 1-4 pixels thick.
      const a = Math.PI * u(), half = 0.5 + 1.5 * u(), sin = Math.sin(a), cos = Math.cos(a);
      paint(c, (y, x) => Math.abs((x - cx) * sin - (y - cy) * cos) <= half);
    }
  }
  return out;
}
