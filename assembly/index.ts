// Entry point of the kernel module: every export takes byte pointers (usize) and i32 sizes,
// allocates nothing and uses no managed objects. See src/kernels/abi.ts for the contract.
import { workspaceEnd } from "./common";

export { lrp_set_thread } from "./common";

export { gemm_f32 } from "./gemm";
export { dense_forward_f32, dense_transpose_f32 } from "./dense";
export { conv2d_forward_f32, conv2d_transpose_f32, conv2d_transpose_pair_f32, conv2d_scratch_bytes } from "./conv2d";
export {
  winograd_scratch_bytes, winograd_filter_f32, winograd_forward_f32, winograd_transpose_f32,
} from "./winograd";
export {
  maxpool2d_forward_f32, maxpool2d_backward_f32, avgpool2d_forward_f32, avgpool2d_transpose_f32,
} from "./pool";
export {
  relu_f32, neg_part_f32, has_negative_f32, has_nonzero_f32, has_non_finite_f32, add_f32, mul_f32, mul_acc_f32,
  stab_divide_f32, stab_divide_masked_f32, gamma_divide_f32, channel_affine_f32, channel_scale_f32, fill_f32, copy_f32,
  copy_blocks_f32, add_blocks_f32,
} from "./elementwise";
export { elementwise_part_f32, gamma_divide_part_f32 } from "./elementwise-parts";
export { activation_forward_f32, activation_gradient_f32 } from "./activations";
export { prelu_forward_f32, prelu_gradient_f32 } from "./prelu";
export { channel_mul_f32, channel_dot_f32 } from "./channel-gate";
export { strided_gather_f32, strided_scatter_add_f32 } from "./strided";
export { layer_norm_forward_f32, layer_norm_attnlrp_f32, layer_norm_gradient_f32 } from "./layernorm";
export { softmax_forward_f32, softmax_attnlrp_f32, softmax_gradient_f32 } from "./softmax";
export { matmul_f32 } from "./matmul";
export { embedding_forward_f32 } from "./embedding";

/** First byte above the module's static data and its GEMM workspaces: where the TS Arena may start. */
export function lrp_heap_base(): usize {
  return (workspaceEnd() + 63) & ~(<usize>63);
}
