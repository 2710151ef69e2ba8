/** The part of benchmark.js 2.1.4 the microbench uses (the package ships no types). */
declare module 'benchmark' {
  interface Stats {
    /** Relative margin of error, in percent. */
    rme: number;
    /** Mean time per operation, in seconds. */
    mean: number;
    sample: number[];
  }
  interface Options {
    maxTime?: number;
    minSamples?: number;
    minTime?: number;
    initCount?: number;
  }
  class Benchmark {
    constructor(name: string, fn: () => void, options?: Options);
    name: string;
    /** Operations per second. */
    hz: number;
    stats: Stats;
    error?: Error;
    count: number;
    run(options?: { async?: boolean }): Benchmark;
    static options: Options;
  }
  namespace Benchmark {
    class Suite {
      constructor(name?: string);
      add(name: string, fn: () => void, options?: Options): Suite;
      on(event: string, listener: (event: { target: Benchmark }) => void): Suite;
      run(options?: { async?: boolean }): Suite;
    }
  }
  export default Benchmark;
}
