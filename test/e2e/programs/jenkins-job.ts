/**
 * One JenkinsJob driven by env vars, so a test can change one knob per run:
 * JJ_URL, JJ_TOKEN (made a secret), JJ_NAME, JJ_TEMPLATE (inline template
 * text; none means the built-in pipeline template), JJ_IMAGE (a var),
 * JJ_ADOPT ("true" sets adopt).
 * The Jenkinsfile and description are files of the program folder.
 */
import * as pulumi from "@pulumi/pulumi";
import { JenkinsJob } from "backtest-deploy";

export default async () => {
  const env = process.env;
  const job = new JenkinsJob("nightly", {
    url: env.JJ_URL,
    username: "admin",
    apiToken: pulumi.secret(env.JJ_TOKEN ?? ""),
    name: env.JJ_NAME ?? "team/backtests/nightly",
    jenkinsfile: "Jenkinsfile",
    description: "description.html",
    ...(env.JJ_TEMPLATE ? { template: { text: env.JJ_TEMPLATE } } : {}),
    vars: { image: env.JJ_IMAGE ?? "/filer/envs/a.sqsh" },
    parameters: [
      { name: "ENV_IMAGE", default: env.JJ_IMAGE ?? "/filer/envs/a.sqsh", description: "env image" },
    ],
    createFolders: true,
    adopt: env.JJ_ADOPT === "true",
  });
  return { jobUrl: job.jobUrl, jobPath: job.jobPath, configSha256: job.configSha256, owners: job.owners };
};
