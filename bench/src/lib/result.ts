/** One line of the results table: a figure, the baseline it is compared with, and the target. */
export type BenchRow = {
  bench: string;
  metric: string;
  unit: string;
  archiver: number;
  baseline: number;
  /** archiver / baseline, or whatever comparison `target` names. */
  ratio: number;
  target: string;
  pass: boolean;
  note?: string;
};

/** Raw figures a benchmark wants kept in results.json beside its rows. */
export type BenchOutput = { rows: BenchRow[]; details: Record<string, unknown> };

export type BenchOptions = {
  quick: boolean;
  /** Files for the pipeline benchmark; text events for the recording benchmark. */
  files?: number;
  log: (line: string) => void;
};
