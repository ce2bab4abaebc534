/**
 * simdnet's version, as package.json gives it (test/platform/seam.test.ts checks that they agree):
 * a constant, so that a page needs no package.json to know it.
 */
export const VERSION = '0.2.0';
