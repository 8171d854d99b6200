/**
 * JJ_COUNT JenkinsJobs in one stack, for scripts/bench/jenkins.ts --with-pulumi:
 * JJ_URL, JJ_TOKEN (made a secret), JJ_FOLDER (default "bench"), JJ_IMAGE (a
 * var and a parameter default, the knob a benchmark changes).
 */
import * as pulumi from "@pulumi/pulumi";
import { JenkinsJob } from "backtest-deploy";

const JENKINSFILE =
  "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'run \"$ENV_IMAGE\"' } } }\n}\n";

export default async () => {
  const env = process.env;
  const count = Number(env.JJ_COUNT ?? "1");
  const folder = env.JJ_FOLDER ?? "bench";
  const image = env.JJ_IMAGE ?? "/filer/envs/a.sqsh";
  const token = pulumi.secret(env.JJ_TOKEN ?? "");
  for (let i = 0; i < count; i++) {
    const name = `job-${String(i).padStart(4, "0")}`;
    new JenkinsJob(name, {
      url: env.JJ_URL,
      username: "admin",
      apiToken: token,
      name: `${folder}/${name}`,
      jenkinsfile: { text: JENKINSFILE },
      vars: { image },
      parameters: [{ name: "ENV_IMAGE", default: image, description: "env image" }],
      createFolders: true,
    });
  }
  return { count };
};
