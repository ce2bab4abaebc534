/** What simdnet says, once, in a page that cannot run worker threads. */
export const ISOLATION_NOTE = 'this page is not cross-origin isolated, so simdnet runs on one thread: serve it with the headers ' +
  '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" to train on every core';
