/** FilerArtifact: operations. (Being implemented: see the issue for FilerArtifact.) */
import type { KindOps } from "./context.ts";
import { BacktestDeployError } from "./errors.ts";

function notYet(): never {
  throw new BacktestDeployError({ code: "BTD_PROVIDER_NOT_IMPLEMENTED", reason: "FilerArtifact is not implemented yet" });
}

export const filerArtifactOps: KindOps = {
  check: async () => notYet(),
  diff: async () => notYet(),
  create: async () => notYet(),
  read: async () => notYet(),
  update: async () => notYet(),
  delete: async () => notYet(),
};
