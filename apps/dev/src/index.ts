// For tools that want the dev system in-process (dev.ts and demo.ts are the entry points).
export { loadDevSettings, DEMO, DevError, type DevSettings } from './settings.js';
export { startSystem, type RunningSystem } from './system.js';
export { startSimulator, type Simulator } from './simulator.js';
export { CONTROL_PATH, createControlHandler } from './sim-control.js';
export { readState, type DevState } from './state.js';
