/** The counting / fault-injecting proxy lives in bench/ (the benchmark uses it too). */
export * from '../../testkit/cosmos-proxy';
