export * from './entry.js';
export * from './merkle.js';
export * from './keys.js';
export * from './log.js';
export * from './recorder.js';
