// simdnet: train convolutional networks on WebAssembly SIMD kernels, in Node (and Bun and Deno)
// and in web pages (browser.ts is the same library for pages).

export * from './library.js';
export { serve, type ServeOptions, type Server } from './serve/server.js';
