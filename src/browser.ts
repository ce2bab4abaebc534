// simdnet for web pages: the same library as in Node (library.ts), on the browser platform, plus
// the page's own settings. Bundlers pick this file by package.json's "browser" condition.

export * from './library.js';
export { setSettings } from './platform/browser.js';
