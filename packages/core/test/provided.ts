// The int project's globalSetup (packages/testkit) provides the shared Redis URL. Declared
// here too because this package's tsconfig does not include testkit's declaration.
declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export {};
