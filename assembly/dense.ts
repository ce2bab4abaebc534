// Fully connected layer in Keras layout: x [N,I], kernel [I,O], bias [O].

import { sgemm } from "./gemm";
import { col_sum, bias_add } from "./elementwise";

// y [N,O] = x [N,I] · w [I,O] + b [O]
export function dense_forward(x: usize, w: usize, b: usize, y: usize, N: i32, I: i32, O: i32, ws: usize): void {
  sgemm(N, O, I, x, I, 1, w, O, 1, y, O, false, ws);
  if (b != 0) bias_add(y, b, N, O);
}

// dx [N,I] = dy · wᵀ; dw [I,O] (+)= xᵀ · dy; db [O] (+)= column sums of dy. dx = 0 skips dx.
export function dense_backward(
  x: usize, w: usize, dy: usize, dx: usize, dw: usize, db: usize,
  N: i32, I: i32, O: i32, accumulate: bool, ws: usize,
): void {
  if (dx != 0) sgemm(N, I, O, dy, O, 1, w, 1, O, dx, I, false, ws);
  sgemm(I, O, N, x, 1, I, dy, O, 1, dw, O, accumulate, ws);
  if (db != 0) col_sum(dy, N, O, db, accumulate);
}
