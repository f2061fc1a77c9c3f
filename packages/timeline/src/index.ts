export * from './timeline.js';
export * from './text.js';
