import type { App } from "../src/app.js";
import type { RawNodegit } from "./baseline-nodegit.js";
import type { GitCli } from "./baseline-git-cli.js";
import type { GraphQLClient } from "./client.js";
import type { Dataset } from "./dataset.js";
import type { BenchOptions } from "./options.js";
import type { Row } from "./report.js";
import type { Summary } from "./stats.js";

/** What every scenario gets: the options, the data set, the running server's clients and the baselines. */
export interface BenchContext {
  options: BenchOptions;
  dataset: Dataset;
  app: App;
  graphqlUrl: string;
  client: GraphQLClient;
  raw: RawNodegit;
  cli: GitCli;
  log: (line: string) => void;
  rows: Row[];
  figures: Record<string, Summary | number | Record<string, unknown>>;
}
