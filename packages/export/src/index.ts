export * from './manifest.js';
export * from './write-export.js';
export * from './verify-export.js';
export * from './rsmf.js';
export * from './zip.js';
