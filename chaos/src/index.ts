export { startChaosEnv, type ChaosEnv } from './env.js';
export {
  FULL,
  SHORT,
  SCENARIO_NAMES,
  runScenario,
  type ScenarioName,
  type ScenarioSize,
  type Verdict,
} from './scenarios.js';
