export {
  CondaSquashEnv,
  type CondaSquashEnvArgs,
  type CondaSquashEnvSquashfsArgs,
} from "./conda-squash-env.ts";
export { FilerArtifact, type FilerArtifactArgs, FilerLink, type FilerLinkArgs } from "./filer-artifact.ts";
export {
  JenkinsJob,
  type JenkinsJobArgs,
  type JenkinsJobParameter,
  type JenkinsJobSource,
} from "./jenkins-job.ts";
export { LocalFile, type LocalFileArgs } from "./local-file.ts";
