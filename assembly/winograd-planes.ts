// Where Winograd's planes lie in the caller's scratch: a tile buffer, then U [P, C, F],
// V [P, T, C] and M [P, T, F], P = 16 (F(2x2, 3x3)) or 36 (F(4x4, 3x3)).

// The tile buffer the F(4x4) transforms copy edge tiles into.
export const WINOGRAD_BUFFER_BYTES: usize = 2048;

// Bytes from one plane of `floats` floats to the next. The transforms write one vector to each
// of 16 or 36 planes in turn; planes a multiple of 4 KiB apart (any power-of-two C * F, or
// T * C) would map every one of them to the same L1 set, which holds 12 lines, and each tile
// would evict its own lines. One cache line more per plane spreads them over consecutive sets.
@inline export function planeBytes(floats: usize): usize {
  return (floats << 2) + 64;
}
