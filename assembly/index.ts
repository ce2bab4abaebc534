// The simdnet kernel module: every export is a plain function over pointers into linear memory.
// The memory is imported (and shared), so several worker threads can run these kernels on one
// set of weights; the kernels keep no state between calls.

export { sgemm, gemm_workspace_bytes, gemm_set_blocking, gemm_set_b_in_place_rows, simd_peak } from "./gemm";
export { gemm_4x8, gemm_5x8, gemm_6x8 } from "./gen/gemm-variants";
export { im2col, col2im, conv2d_forward, conv2d_forward_columns, conv2d_backward_input, conv2d_backward_kernel } from "./conv";
export {
  winograd_kernel_transform, winograd_input_transform, winograd_output_transform,
  winograd_output_transform_adjoint, winograd_kernel_transform_adjoint,
  conv2d_winograd_forward, conv2d_winograd_backward_input, conv2d_winograd_backward_kernel,
} from "./winograd";
export {
  winograd4x4_kernel_transform, winograd4x4_input_transform, winograd4x4_output_transform,
  winograd4x4_output_transform_adjoint, winograd4x4_kernel_transform_adjoint,
} from "./winograd-f4";
export { winograd_scratch_bytes } from "./winograd-planes";
export {
  depthwise_conv2d_forward, depthwise_conv2d_forward_channels, depthwise_conv2d_backward_input, depthwise_conv2d_backward_kernel, repeat_channels, sum_channel_groups,
} from "./depthwise";
export { conv2d_direct_forward, conv2d_direct_backward_kernel, conv2d_direct_scratch_bytes } from "./conv-direct";
export { dense_forward, dense_backward } from "./dense";
export {
  maxpool_forward, maxpool_backward, avgpool_forward, avgpool_backward,
  global_avgpool_forward, global_avgpool_backward, global_maxpool_forward,
  zeropad_forward, zeropad_backward,
} from "./pool";
export {
  bn_forward_sums, bn_forward_stats, bn_forward_normalize, bn_update_moving, bn_inference_forward,
  bn_backward_sums, bn_backward_dx, bn_param_grads,
} from "./batchnorm";
export {
  add_to, add, relu_forward, relu_backward, bias_add, col_sum, zero, copy, add_to_f64, first_non_finite, bytes_to_unit_floats,
  relu_clipped_forward, relu_clipped_backward, scale_shift, copy_channels,
} from "./elementwise";
export { bn_fold_coefficients, affine_epilogue } from "./epilogue";
export { softmax_forward, softmax_backward, softmax_xent } from "./loss";
export { adam_update, sgd_update } from "./optimizer";
export { dropout_forward, dropout_backward } from "./dropout";
export { layernorm_forward, layernorm_backward } from "./layernorm";
