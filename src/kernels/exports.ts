// The signatures of the kernel module's exports (assembly/index.ts). Pointers are byte offsets
// into the shared memory; booleans travel as 0/1.

type Ptr = number;
type Bool = number | boolean;

export interface KernelExports {
  memory: WebAssembly.Memory;
  gemm_workspace_bytes(): number;
  gemm_set_blocking(mr: number, mc: number, kc: number, nc: number): number;
  gemm_set_b_in_place_rows(rows: number): number;
  sgemm(M: number, N: number, K: number, a: Ptr, rsa: number, csa: number, b: Ptr, rsb: number, csb: number,
    c: Ptr, ldc: number, accumulate: Bool, ws: Ptr): void;
  gemm_4x8: KernelExports['sgemm'];
  gemm_5x8: KernelExports['sgemm'];
  gemm_6x8: KernelExports['sgemm'];
  simd_peak(iters: number, seed: number): number;

  im2col(x: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number, stride: number,
    padT: number, padL: number, OH: number, OW: number, cols: Ptr): void;
  col2im(cols: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number, stride: number,
    padT: number, padL: number, OH: number, OW: number, dx: Ptr): void;
  conv2d_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number,
    KW: number, F: number, stride: number, padT: number, padL: number, OH: number, OW: number, cols: Ptr, ws: Ptr): void;
  conv2d_forward_columns(x: Ptr, w: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number, F: number,
    stride: number, padT: number, padL: number, OH: number, OW: number, f0: number, f1: number, cols: Ptr, ws: Ptr): void;
  conv2d_backward_input(dy: Ptr, w: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, KH: number,
    KW: number, F: number, stride: number, padT: number, padL: number, OH: number, OW: number, cols: Ptr, ws: Ptr): void;
  conv2d_backward_kernel(x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, N: number, H: number, W: number, C: number, KH: number,
    KW: number, F: number, stride: number, padT: number, padL: number, OH: number, OW: number, accumulate: Bool,
    cols: Ptr, ws: Ptr): void;
  winograd_kernel_transform(w: Ptr, C: number, F: number, rotate: Bool, u: Ptr): void;
  winograd_input_transform(x: Ptr, N: number, H: number, W: number, C: number, padT: number, padL: number,
    tilesH: number, tilesW: number, v: Ptr): void;
  winograd_output_transform(m: Ptr, N: number, OH: number, OW: number, F: number, tilesH: number, tilesW: number, b: Ptr, y: Ptr): void;
  winograd_scratch_bytes(N: number, H: number, W: number, C: number, F: number, OH: number, OW: number, tile: number): number;
  conv2d_winograd_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, H: number, W: number, C: number, F: number,
    padT: number, padL: number, OH: number, OW: number, tile: number, scratch: Ptr, ws: Ptr): void;
  conv2d_winograd_backward_input(dy: Ptr, w: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, F: number,
    padT: number, padL: number, OH: number, OW: number, tile: number, scratch: Ptr, ws: Ptr): void;
  winograd_output_transform_adjoint(dy: Ptr, N: number, OH: number, OW: number, F: number, tilesH: number, tilesW: number, m: Ptr): void;
  winograd_kernel_transform_adjoint(du: Ptr, C: number, F: number, accumulate: Bool, dw: Ptr): void;
  conv2d_winograd_backward_kernel(x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, N: number, H: number, W: number, C: number, F: number,
    padT: number, padL: number, OH: number, OW: number, accumulate: Bool, tile: number, scratch: Ptr, ws: Ptr): void;
  winograd4x4_kernel_transform(w: Ptr, C: number, F: number, rotate: Bool, u: Ptr, buf: Ptr): void;
  winograd4x4_input_transform(x: Ptr, N: number, H: number, W: number, C: number, padT: number, padL: number,
    tilesH: number, tilesW: number, v: Ptr, buf: Ptr): void;
  winograd4x4_output_transform(m: Ptr, N: number, OH: number, OW: number, F: number, tilesH: number, tilesW: number, b: Ptr, y: Ptr, buf: Ptr): void;
  winograd4x4_output_transform_adjoint(dy: Ptr, N: number, OH: number, OW: number, F: number, tilesH: number, tilesW: number, m: Ptr, buf: Ptr): void;
  winograd4x4_kernel_transform_adjoint(du: Ptr, C: number, F: number, accumulate: Bool, dw: Ptr, buf: Ptr): void;
  conv2d_direct_scratch_bytes(N: number, H: number, W: number, C: number, KH: number, KW: number, stride: number,
    padT: number, padL: number, OH: number, OW: number): number;
  conv2d_direct_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number,
    KW: number, F: number, stride: number, padT: number, padL: number, OH: number, OW: number, scratch: Ptr): void;
  conv2d_direct_backward_kernel(x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, N: number, H: number, W: number, C: number, KH: number,
    KW: number, F: number, stride: number, padT: number, padL: number, OH: number, OW: number, accumulate: Bool, scratch: Ptr): void;
  depthwise_conv2d_forward_channels(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, dilation: number, padT: number, padL: number, OH: number, OW: number, c0: number, c1: number): void;
  depthwise_conv2d_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, dilation: number, padT: number, padL: number, OH: number, OW: number): void;
  depthwise_conv2d_backward_input(dy: Ptr, w: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, dilation: number, padT: number, padL: number, OH: number, OW: number): void;
  depthwise_conv2d_backward_kernel(x: Ptr, dy: Ptr, dw: Ptr, db: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, dilation: number, padT: number, padL: number, OH: number, OW: number, accumulate: Bool): void;
  repeat_channels(x: Ptr, y: Ptr, rows: number, C: number, M: number): void;
  sum_channel_groups(x: Ptr, y: Ptr, rows: number, C: number, M: number): void;
  dense_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, N: number, I: number, O: number, ws: Ptr): void;
  dense_backward(x: Ptr, w: Ptr, dy: Ptr, dx: Ptr, dw: Ptr, db: Ptr, N: number, I: number, O: number,
    accumulate: Bool, ws: Ptr): void;

  maxpool_forward(x: Ptr, y: Ptr, argmax: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, padT: number, padL: number, OH: number, OW: number, relu: Bool): void;
  maxpool_backward(dy: Ptr, argmax: Ptr, dx: Ptr, ny: number, nx: number): void;
  avgpool_forward(x: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, padT: number, padL: number, OH: number, OW: number): void;
  avgpool_backward(dy: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    stride: number, padT: number, padL: number, OH: number, OW: number): void;
  global_avgpool_forward(x: Ptr, y: Ptr, N: number, HW: number, C: number): void;
  global_avgpool_backward(dy: Ptr, dx: Ptr, N: number, HW: number, C: number): void;
  global_maxpool_forward(x: Ptr, y: Ptr, argmax: Ptr, N: number, HW: number, C: number, relu: Bool): void;
  zeropad_forward(x: Ptr, y: Ptr, N: number, H: number, W: number, C: number, top: number, bottom: number,
    left: number, right: number): void;
  zeropad_backward(dy: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, top: number, bottom: number,
    left: number, right: number): void;

  bn_forward_sums(x: Ptr, M: number, C: number, sum: Ptr, sumsq: Ptr): void;
  bn_forward_stats(sum: Ptr, sumsq: Ptr, count: number, eps: number, C: number, mean: Ptr, variance: Ptr, invstd: Ptr): void;
  bn_forward_normalize(x: Ptr, M: number, C: number, mean: Ptr, invstd: Ptr, gamma: Ptr, beta: Ptr, y: Ptr): void;
  bn_update_moving(mean: Ptr, variance: Ptr, movingMean: Ptr, movingVar: Ptr, C: number, momentum: number): void;
  bn_inference_forward(x: Ptr, M: number, C: number, gamma: Ptr, beta: Ptr, movingMean: Ptr, movingVar: Ptr,
    eps: number, y: Ptr, coef: Ptr): void;
  bn_backward_sums(dy: Ptr, x: Ptr, mean: Ptr, invstd: Ptr, M: number, C: number, sumDy: Ptr, sumDyXhat: Ptr): void;
  bn_backward_dx(dy: Ptr, x: Ptr, mean: Ptr, invstd: Ptr, gamma: Ptr, sumDy: Ptr, sumDyXhat: Ptr, count: number,
    M: number, C: number, coef: Ptr, dx: Ptr): void;
  bn_param_grads(sumDy: Ptr, sumDyXhat: Ptr, C: number, dgamma: Ptr, dbeta: Ptr, accumulate: Bool): void;

  add_to(dst: Ptr, src: Ptr, n: number): void;
  add_to_f64(dst: Ptr, src: Ptr, n: number): void;
  add(a: Ptr, b: Ptr, y: Ptr, n: number): void;
  relu_forward(x: Ptr, y: Ptr, n: number): void;
  relu_backward(y: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  bias_add(y: Ptr, b: Ptr, M: number, C: number): void;
  col_sum(x: Ptr, M: number, C: number, out: Ptr, accumulate: Bool): void;
  zero(dst: Ptr, n: number): void;
  copy(dst: Ptr, src: Ptr, n: number): void;
  first_non_finite(x: Ptr, n: number): number;
  bytes_to_unit_floats(x: Ptr, y: Ptr, n: number): void;
  bn_fold_coefficients(gamma: Ptr, beta: Ptr, movingMean: Ptr, movingVar: Ptr, eps: number, bias: Ptr, C: number, scale: Ptr, shift: Ptr): void;
  affine_epilogue(y: Ptr, M: number, C: number, ld: number, scale: Ptr, shift: Ptr, r: Ptr, lo: number, hi: number): void;
  relu_clipped_forward(x: Ptr, y: Ptr, n: number, maxValue: number, slope: number, threshold: number): void;
  relu_clipped_backward(x: Ptr, dy: Ptr, dx: Ptr, n: number, maxValue: number, slope: number, threshold: number): void;
  scale_shift(x: Ptr, y: Ptr, n: number, scale: number, offset: number): void;
  copy_channels(src: Ptr, srcC: number, srcAt: number, dst: Ptr, dstC: number, dstAt: number, rows: number, count: number): void;

  softmax_forward(logits: Ptr, probs: Ptr, N: number, K: number): void;
  softmax_backward(y: Ptr, dy: Ptr, dx: Ptr, N: number, K: number): void;
  softmax_xent(logits: Ptr, labels: Ptr, N: number, K: number, invBatch: number, probs: Ptr, dlogits: Ptr): number;
  adam_update(p: Ptr, g: Ptr, m: Ptr, v: Ptr, pOut: Ptr, mOut: Ptr, vOut: Ptr, n: number, lrT: number, beta1: number, oneMinusBeta1: number,
    beta2: number, oneMinusBeta2: number, eps: number, keep: number): void;
  sgd_update(p: Ptr, g: Ptr, vel: Ptr, pOut: Ptr, velOut: Ptr, n: number, lr: number, momentum: number, nesterov: Bool): void;
  dropout_forward(x: Ptr, y: Ptr, mask: Ptr, n: number, rate: number, seed: number, first: number): void;
  dropout_backward(dy: Ptr, mask: Ptr, dx: Ptr, n: number): void;
  layernorm_forward(x: Ptr, M: number, N: number, eps: number, gamma: Ptr, beta: Ptr, y: Ptr, mean: Ptr, invstd: Ptr): void;
  layernorm_backward(dy: Ptr, x: Ptr, mean: Ptr, invstd: Ptr, gamma: Ptr, M: number, N: number, dx: Ptr, dgamma: Ptr, dbeta: Ptr): void;
}
