/** Sizes and repetitions of one bench run; `--quick` keeps the whole run under a minute. */
export interface BenchOptions {
  quick: boolean;
  /** Keep the generated data directory instead of deleting it at the end. */
  keep: boolean;
  /** Only these scenarios (letters A-J); empty means all. */
  only: Set<string>;
  tenants: number;
  environments: string[];
  services: number;
  /** Deployments in the index of the small and the large history tenant-environment (scenario C, G). */
  historySmall: number;
  historyLarge: number;
  /** How deep the deep page of C is (capped at half the history for the small one). */
  deepOffset: number;
  pageSize: number;
  /** Warm-up and measured runs of the single-operation scenarios (A, B, C, D). */
  warmup: number;
  runs: number;
  /** D: how many deployments apart the two compared revisions are. */
  compareApart: number;
  /** E: tenant-environments, concurrent clients, rollbacks per tenant-environment. */
  throughputTenantEnvs: number;
  throughputClients: number;
  throughputRounds: number;
  /** F: subscribers of the fan-out and measured notes. */
  subscribers: number;
  fanoutWarmup: number;
  fanoutRuns: number;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const keep = argv.includes("--keep");
  const onlyArg = argv.find((a) => a.startsWith("--only="));
  const only = new Set(
    (onlyArg?.slice("--only=".length) ?? "")
      .toUpperCase()
      .split(/[,\s]*/)
      .filter((s) => /^[A-J]$/.test(s)),
  );
  const unknown = argv.filter((a) => a !== "--quick" && a !== "--keep" && !a.startsWith("--only="));
  if (unknown.length > 0) throw new UsageError(`unknown argument(s): ${unknown.join(" ")}\nusage: npm run bench [-- --quick] [--keep] [--only=A,B,...]`);
  const base = {
    quick,
    keep,
    only,
    environments: ["dev", "staging", "production"],
    pageSize: 50,
  };
  if (quick) {
    return {
      ...base,
      tenants: 7,
      services: 12,
      historySmall: 1_000,
      historyLarge: 20_000,
      deepOffset: 10_000,
      warmup: 2,
      runs: 12,
      compareApart: 24,
      throughputTenantEnvs: 8,
      throughputClients: 4,
      throughputRounds: 2,
      subscribers: 200,
      fanoutWarmup: 1,
      fanoutRuns: 6,
    };
  }
  return {
    ...base,
    tenants: 20,
    services: 30,
    historySmall: 1_000,
    historyLarge: 100_000,
    deepOffset: 50_000,
    warmup: 5,
    runs: 40,
    compareApart: 100,
    throughputTenantEnvs: 32,
    throughputClients: 16,
    throughputRounds: 4,
    subscribers: 1_000,
    fanoutWarmup: 3,
    fanoutRuns: 20,
  };
}

export class UsageError extends Error {}
