// simdnet for web pages: the same library as in Node (index.ts), on the browser platform, plus
// the page's own settings. Bundlers pick this file by package.json's "browser" condition.

export * from './index.js';
export { setSettings } from './platform/browser.js';
