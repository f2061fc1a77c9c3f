export { createPoller, instancesToPoll, type Poller, type PollerDeps } from './poller.js';
export { startPoller, type RunningPoller } from './app.js';
