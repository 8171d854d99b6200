import type { Progress } from "./progress.ts";

/** Plain JSON-like property bags: what Pulumi hands a dynamic provider. */
export type Props = Record<string, unknown>;

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckResult {
  inputs?: Props;
  failures?: CheckFailure[];
}

export interface DiffResult {
  changes?: boolean;
  replaces?: string[];
  stables?: string[];
  deleteBeforeReplace?: boolean;
}

export interface CreateResult {
  id: string;
  outs: Props;
}

export interface ReadResult {
  id?: string;
  props?: Props;
  inputs?: Props;
}

/**
 * Stack configuration handed over by the dynamic provider's configure():
 * provider-wide settings (Jenkins URL and credentials, filer host and key).
 * Looked up by full key, e.g. "backtest:jenkinsUrl".
 */
export interface StackConfig {
  get(key: string): string | undefined;
}

export interface OpContext {
  /** "<Kind> <resource name>", for messages and progress lines. */
  label: string;
  progress: Progress;
  config: StackConfig;
}

/**
 * What each resource kind implements. check and diff are pure (no I/O but
 * reading local input files in check); create/read/update/delete act.
 */
export interface KindOps {
  check(olds: Props, news: Props, ctx: OpContext): Promise<CheckResult>;
  diff(id: string, olds: Props, news: Props, ctx: OpContext): Promise<DiffResult>;
  create(inputs: Props, ctx: OpContext): Promise<CreateResult>;
  read(id: string, props: Props, ctx: OpContext): Promise<ReadResult>;
  update(id: string, olds: Props, news: Props, ctx: OpContext): Promise<{ outs: Props }>;
  delete(id: string, props: Props, ctx: OpContext): Promise<void>;
}
