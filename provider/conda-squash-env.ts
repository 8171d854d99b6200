/**
 * CondaSquashEnv: a conda env built at its mount prefix, locked,
 * smoke-tested inside its own squashfs image and published under the
 * image's content hash. The local image is a cache (the filer copy is the
 * durable one): nothing here turns a missing local image into a rebuild.
 */
import { rm, stat } from "node:fs/promises";
import { type BuildResult, buildImage, registerInputSecrets } from "./conda/build.ts";
import { diffInputs } from "./conda/diff.ts";
import { type CondaSquashEnvInputs, checkInputs } from "./conda/inputs.ts";
import { releasePrefix } from "./conda/prefix-claim.ts";
import { workspaceFor } from "./conda/workspace.ts";
import type { KindOps, Props } from "./context.ts";
import { sha256File } from "./hash.ts";

export const CONDA_SQUASH_ENV_SCHEMA_VERSION = 1;

export type LocalImageState = "present" | "missing" | "changed" | "not kept";

export interface CondaSquashEnvOutputs extends Omit<CondaSquashEnvInputs, "channelCredentials">, BuildResult {
  localImage: LocalImageState;
  schemaVersion: number;
}

export function upgradeState(raw: unknown): CondaSquashEnvOutputs {
  // Version 1 is the first; later versions add their migrations here.
  return { ...(raw as CondaSquashEnvOutputs), schemaVersion: CONDA_SQUASH_ENV_SCHEMA_VERSION };
}

function outputsOf(i: CondaSquashEnvInputs, built: BuildResult, localImage: LocalImageState): Props {
  const { channelCredentials: _secret, ...rest } = i;
  const outs: CondaSquashEnvOutputs = {
    ...rest,
    ...built,
    localImage,
    schemaVersion: CONDA_SQUASH_ENV_SCHEMA_VERSION,
  };
  return outs as unknown as Props;
}

async function localImageState(state: CondaSquashEnvOutputs): Promise<LocalImageState> {
  try {
    const st = await stat(state.imagePath);
    if (st.size !== state.sizeBytes) return "changed";
    return (await sha256File(state.imagePath)) === state.sha256 ? "present" : "changed";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return state.keepLocalImage === false ? "not kept" : "missing";
    throw err;
  }
}

export const condaSquashEnvOps: KindOps = {
  async check(_olds, news, ctx) {
    return checkInputs(news, ctx.config);
  },

  async diff(_id, olds, news) {
    return diffInputs(upgradeState(olds) as unknown as Props, news);
  },

  async create(inputs, ctx) {
    const i = inputs as unknown as CondaSquashEnvInputs;
    const built = await buildImage(i, ctx);
    return { id: built.imageName, outs: outputsOf(i, built, i.keepLocalImage ? "present" : "not kept") };
  },

  async read(id, props, ctx) {
    const state = upgradeState(props);
    const localImage = await localImageState(state);
    if (localImage !== "present")
      ctx.progress.step(
        "read",
        `local image ${state.imagePath} is ${localImage} (a cache: the filer copy is what deploys)`,
      );
    return { id, props: { ...state, localImage } as unknown as Props };
  },

  async update(_id, olds, news, ctx) {
    const state = upgradeState(olds);
    const i = news as unknown as CondaSquashEnvInputs;
    registerInputSecrets(i);
    // Only how the next build runs changed (processors, mem, smokeTest, ...): the image stays.
    if (!i.keepLocalImage && state.keepLocalImage) {
      await rm(state.imagePath, { force: true });
      ctx.progress.step("update", `removed the local image ${state.imagePath} (keepLocalImage: false)`);
    }
    const built: BuildResult = {
      imagePath: state.imagePath,
      imageName: state.imageName,
      sha256: state.sha256,
      sizeBytes: state.sizeBytes,
      lock: state.lock,
      packages: state.packages,
      installerVersion: state.installerVersion,
    };
    return { outs: outputsOf(i, built, await localImageStateQuick(state, i)) };
  },

  async delete(_id, props, ctx) {
    const state = upgradeState(props);
    const ws = workspaceFor(state.prefix, state.workDir, ctx.config);
    // Only what this resource made: its image (named by its own hash) and its build folders.
    if (state.imagePath) await rm(state.imagePath, { force: true });
    await releasePrefix(ws.ownerRecord, ctx.label);
    await rm(ws.buildDir, { recursive: true, force: true });
    ctx.progress.step("delete", `removed ${state.imagePath ?? "nothing"}`);
  },
};

async function localImageStateQuick(
  state: CondaSquashEnvOutputs,
  i: CondaSquashEnvInputs,
): Promise<LocalImageState> {
  try {
    const st = await stat(state.imagePath);
    return st.size === state.sizeBytes ? "present" : "changed";
  } catch {
    return i.keepLocalImage ? "missing" : "not kept";
  }
}
