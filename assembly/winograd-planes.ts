// Where Winograd's planes lie in the caller's scratch: a tile buffer, then U [P, C, F],
// V [P, T, C] and M [P, T, F], P = 16 (F(2x2, 3x3)) or 36 (F(4x4, 3x3)).

// The tile buffer the F(4x4) transforms copy edge tiles into.
export const WINOGRAD_BUFFER_BYTES: usize = 2048;

// Bytes from one plane of `floats` floats to the next. The transforms write one vector to each
// of 16 or 36 planes in turn; planes a multiple of 4 KiB apart (any power-of-two C * F, or
// T * C) would map every one of them to the same L1 set, which holds 12 lines, and each tile
// would evict its own lines. One cache line more per plane spreads them over consecutive sets.
@inline export function planeBytes<T>(floats: T): T {
  return (floats << 2) + 64;
}

// The tiles along one side of an output of `size` cells.
@inline export function tilesAlong(size: i32, tile: i32): i32 {
  return (size + tile - 1) / tile;
}

// Bytes of scratch the Winograd passes of a 3x3 stride-1 convolution x [N,H,W,C] -> y [N,OH,OW,F]
// with output tiles of `tile` (2 or 4) lay out: the tile buffer, then P = (tile + 2)² planes each
// of U (C*F floats), V (T*C) and M (T*F), T the tiles of the forward pass's output or the
// backward-to-input pass's (x's), whichever is more. The engine sizes its scratch by this.
// In 64-bit integers, returned as a double: a size past 4 GiB is reported as it is, and the
// engine's allocation refuses it, rather than wrapping around to something small.
export function winograd_scratch_bytes(N: i32, H: i32, W: i32, C: i32, F: i32, OH: i32, OW: i32, tile: i32): f64 {
  const P = <u64>((tile + 2) * (tile + 2));
  const T = max(<u64>N * tilesAlong(OH, tile) * tilesAlong(OW, tile), <u64>N * tilesAlong(H, tile) * tilesAlong(W, tile));
  return <f64>(<u64>WINOGRAD_BUFFER_BYTES + P * (planeBytes<u64>(<u64>C * F) + planeBytes<u64>(T * C) + planeBytes<u64>(T * F)));
}
