export { LocalFile, type LocalFileArgs } from "./local-file.ts";
export { JenkinsJob, type JenkinsJobArgs, type JenkinsJobParameter, type JenkinsJobSource } from "./jenkins-job.ts";
