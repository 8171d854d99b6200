#!/usr/bin/env node
// Entry point of the backtest-deploy-render bin; the logic lives in provider/jenkins/render-folder.ts.
import { readFileSync } from "node:fs";
import { renderJobFolder, type Values } from "../jenkins/render-folder.ts";

const USAGE = `usage: backtest-deploy-render JOB_FOLDER VALUES.json

Writes to stdout the config.xml a JenkinsJob would post, without any Jenkins.
JOB_FOLDER holds Jenkinsfile, and optionally description.html and
jenkins-config.xml (the built-in pipeline template otherwise).
VALUES.json holds the other inputs of the JenkinsJob, all optional:
  {
    "name": "team/backtests/nightly",
    "vars": { "image": "/filer/envs/current" },
    "parameters": [{ "name": "ENV_IMAGE", "default": "/filer/envs/current", "description": "env image" }],
    "disabled": false,
    "project": "meanrev", "stack": "live"
  }
An unknown variable or a malformed template fails with the template's file and line (exit 1).
`;

function main(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [folder, valuesPath, ...rest] = argv;
  if (!folder || !valuesPath || rest.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const values = JSON.parse(readFileSync(valuesPath, "utf8")) as Values;
    process.stdout.write(renderJobFolder(folder, values));
    return 0;
  } catch (err) {
    process.stderr.write(`backtest-deploy-render: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
