// Pooling and zero padding on NHWC tensors: x [N,H,W,C] -> y [N,OH,OW,C].
//
// Padding is explicit (top/left; bottom/right follow from OH/OW). Max pooling never picks a
// padded cell and average pooling divides by the number of real cells, as TensorFlow does.
// Windows run over 4 channels at a time; a channel count that is not a multiple of 4 finishes
// with scalar code.

import { scale_in_place } from "./elementwise";

// y = window max of x; argmax [N,OH,OW,C] receives the flat index in x of each chosen cell
// (the first of equal maxima), which is all the backward pass needs. With `relu`, y = window max
// of relu(x), taken as relu(window max of x) (the same values: relu never changes which cell is
// largest), and a window with no positive cell gets index -1: relu passes it no gradient.
export function maxpool_forward(
  x: usize, y: usize, argmax: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32,
  OH: i32, OW: i32, relu: bool,
): void {
  const lanes = i32x4(0, 1, 2, 3), four = i32x4.splat(4), step = i32x4.splat(C);
  const zero = f32x4.splat(0), none = i32x4.splat(-1);
  const cellBytes = <usize>C << 2;
  let o: usize = 0; // output element index
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * stride - padT);
      const h1 = min(H, oh * stride - padT + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * stride - padL);
        const w1 = min(W, ow * stride - padL + KW);
        const first = ((n * H + h0) * W + w0) * C; // every window has at least one real cell
        let c = 0;
        // Eight channels at a time when there are: two independent compare-select chains, so
        // the loop is not bound by one chain's latency.
        while (c + 4 <= C) {
          const two = c + 8 <= C;
          let best0 = v128.load(x + (<usize>(first + c) << 2)), best1 = two ? v128.load(x + (<usize>(first + c) << 2), 16) : best0;
          let idx0 = i32x4.add(i32x4.splat(first + c), lanes), idx1 = i32x4.add(idx0, four);
          for (let h = h0; h < h1; h++) {
            const wFrom = h == h0 ? w0 + 1 : w0;
            const rowStart = ((n * H + h) * W + wFrom) * C + c;
            // The cells' indices as vectors, stepped by C: no scalar-to-vector move per cell.
            let cell0 = i32x4.add(i32x4.splat(rowStart), lanes), cell1 = i32x4.add(cell0, four);
            let at = x + (<usize>rowStart << 2);
            for (let w = wFrom; w < w1; w++) {
              // Only a strictly larger value replaces: the first of equal maxima wins.
              const v0 = v128.load(at), take0 = f32x4.gt(v0, best0);
              best0 = f32x4.pmax(best0, v0); // best0 < v0 ? v0 : best0, as take0
              idx0 = v128.bitselect(cell0, idx0, take0);
              if (two) {
                const v1 = v128.load(at, 16), take1 = f32x4.gt(v1, best1);
                best1 = f32x4.pmax(best1, v1);
                idx1 = v128.bitselect(cell1, idx1, take1);
              }
              cell0 = i32x4.add(cell0, step);
              cell1 = i32x4.add(cell1, step);
              at += cellBytes;
            }
          }
          if (relu) {
            // As relu_forward computes it, so that the values match to the bit.
            idx0 = v128.bitselect(idx0, none, f32x4.gt(best0, zero));
            best0 = f32x4.pmax(best0, zero);
            idx1 = v128.bitselect(idx1, none, f32x4.gt(best1, zero));
            best1 = f32x4.pmax(best1, zero);
          }
          v128.store(y + ((o + <usize>c) << 2), best0);
          v128.store(argmax + ((o + <usize>c) << 2), idx0);
          if (two) {
            v128.store(y + ((o + <usize>c) << 2), best1, 16);
            v128.store(argmax + ((o + <usize>c) << 2), idx1, 16);
          }
          c += two ? 8 : 4;
        }
        for (; c < C; c++) {
          let best = load<f32>(x + (<usize>(first + c) << 2));
          let bestIdx = first + c;
          for (let h = h0; h < h1; h++) {
            for (let w = h == h0 ? w0 + 1 : w0; w < w1; w++) {
              const idx = ((n * H + h) * W + w) * C + c;
              const v = load<f32>(x + (<usize>idx << 2));
              if (v > best) { best = v; bestIdx = idx; }
            }
          }
          if (relu) {
            if (!(best > 0)) bestIdx = -1;
            if (best < 0) best = 0;
          }
          store<f32>(y + ((o + <usize>c) << 2), best);
          store<i32>(argmax + ((o + <usize>c) << 2), bestIdx);
        }
        o += <usize>C;
      }
    }
  }
}

// dx [nx] = dy [ny] routed to the cells argmax [ny] names (summed where windows overlap); an
// index of -1 (a window a folded ReLU closed) routes nothing.
export function maxpool_backward(dy: usize, argmax: usize, dx: usize, ny: i32, nx: i32): void {
  memory.fill(dx, 0, <usize>nx << 2);
  for (let i = 0; i < ny; i++) {
    const o = <usize>i << 2;
    const cell = load<i32>(argmax + o);
    if (cell < 0) continue;
    const t = dx + (<usize>cell << 2);
    store<f32>(t, load<f32>(t) + load<f32>(dy + o));
  }
}

// y = mean of the real (unpadded) cells of each window of x.
export function avgpool_forward(
  x: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32,
  OH: i32, OW: i32,
): void {
  let o: usize = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * stride - padT);
      const h1 = min(H, oh * stride - padT + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * stride - padL);
        const w1 = min(W, ow * stride - padL + KW);
        const inv: f32 = 1.0 / <f32>((h1 - h0) * (w1 - w0));
        const yo = y + (o << 2);
        memory.fill(yo, 0, <usize>C << 2);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            accumulateScaled(yo, x + ((<usize>(((n * H + h) * W + w) * C)) << 2), 1, C);
          }
        }
        scale_in_place(yo, C, inv);
        o += <usize>C;
      }
    }
  }
}

// dx = dy spread evenly over the real cells of each window.
export function avgpool_backward(
  dy: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, stride: i32, padT: i32, padL: i32,
  OH: i32, OW: i32,
): void {
  memory.fill(dx, 0, (<usize>N * H * W * C) << 2);
  let o: usize = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * stride - padT);
      const h1 = min(H, oh * stride - padT + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * stride - padL);
        const w1 = min(W, ow * stride - padL + KW);
        const inv: f32 = 1.0 / <f32>((h1 - h0) * (w1 - w0));
        const g = dy + (o << 2);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            accumulateScaled(dx + ((<usize>(((n * H + h) * W + w) * C)) << 2), g, inv, C);
          }
        }
        o += <usize>C;
      }
    }
  }
}

// y [N,C] = mean over H*W of x [N,H*W,C]
export function global_avgpool_forward(x: usize, y: usize, N: i32, HW: i32, C: i32): void {
  const inv: f32 = 1.0 / <f32>HW;
  for (let n = 0; n < N; n++) {
    const yo = y + ((<usize>n * C) << 2);
    memory.fill(yo, 0, <usize>C << 2);
    for (let p = 0; p < HW; p++) {
      accumulateScaled(yo, x + ((<usize>(n * HW + p) * C) << 2), 1, C);
    }
    scale_in_place(yo, C, inv);
  }
}

// dx [N,H*W,C] = dy [N,C] / (H*W) at every position
export function global_avgpool_backward(dy: usize, dx: usize, N: i32, HW: i32, C: i32): void {
  const inv: f32 = 1.0 / <f32>HW;
  for (let n = 0; n < N; n++) {
    const g = dy + ((<usize>n * C) << 2);
    for (let p = 0; p < HW; p++) {
      const d = dx + ((<usize>(n * HW + p) * C) << 2);
      memory.fill(d, 0, <usize>C << 2);
      accumulateScaled(d, g, inv, C);
    }
  }
}

// y [N,C] = max over H*W of x [N,H*W,C], with argmax and `relu` as in maxpool_forward
// (its backward is maxpool_backward).
export function global_maxpool_forward(x: usize, y: usize, argmax: usize, N: i32, HW: i32, C: i32, relu: bool): void {
  maxpool_forward(x, y, argmax, N, 1, HW, C, 1, HW, 1, 0, 0, 1, 1, relu);
}

// y [N, H+top+bottom, W+left+right, C] = x surrounded by zeros
export function zeropad_forward(
  x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, top: i32, bottom: i32, left: i32, right: i32,
): void {
  const YH = H + top + bottom;
  const YW = W + left + right;
  memory.fill(y, 0, (<usize>N * YH * YW * C) << 2);
  const rowBytes = (<usize>W * C) << 2;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const src = x + ((<usize>((n * H + h) * W) * C) << 2);
      const dst = y + ((<usize>((n * YH + h + top) * YW + left) * C) << 2);
      memory.copy(dst, src, rowBytes);
    }
  }
}

// dx [N,H,W,C] = the interior of dy [N, H+top+bottom, W+left+right, C]
export function zeropad_backward(
  dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, top: i32, bottom: i32, left: i32, right: i32,
): void {
  const YH = H + top + bottom;
  const YW = W + left + right;
  const rowBytes = (<usize>W * C) << 2;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      const dst = dx + ((<usize>((n * H + h) * W) * C) << 2);
      const src = dy + ((<usize>((n * YH + h + top) * YW + left) * C) << 2);
      memory.copy(dst, src, rowBytes);
    }
  }
}

// dst [C] += s * src [C]
@inline function accumulateScaled(dst: usize, src: usize, s: f32, C: i32): void {
  const sv = f32x4.splat(s);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const o = <usize>c << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(src + o), sv)));
  }
  for (; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o) * s);
  }
}
