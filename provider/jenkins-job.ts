/** JenkinsJob: operations. (Being implemented: see the issue for JenkinsJob.) */
import type { KindOps } from "./context.ts";
import { BacktestDeployError } from "./errors.ts";

function notYet(): never {
  throw new BacktestDeployError({ code: "BTD_PROVIDER_NOT_IMPLEMENTED", reason: "JenkinsJob is not implemented yet" });
}

export const jenkinsJobOps: KindOps = {
  check: async () => notYet(),
  diff: async () => notYet(),
  create: async () => notYet(),
  read: async () => notYet(),
  update: async () => notYet(),
  delete: async () => notYet(),
};
