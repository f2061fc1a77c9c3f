export * from './timeline.js';
export * from './text.js';
export * from './html.js';
