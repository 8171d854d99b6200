import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./trampoline.ts";

/** A file of the team's repo: a path relative to the program folder, or the text itself. */
export type JenkinsJobSource = string | { text: pulumi.Input<string> };

/** A build parameter: a developer may override its default for one build. */
export interface JenkinsJobParameter {
  name: pulumi.Input<string>;
  /** Default: "". */
  default?: pulumi.Input<string>;
  /** Default: "". */
  description?: pulumi.Input<string>;
  /** Trim whitespace of the value given at build time. Default: true. */
  trim?: pulumi.Input<boolean>;
}

export interface JenkinsJobArgs {
  /** Job path in Jenkins, folders separated by `/` (e.g. `team/backtests/nightly`). Each segment must pass Jenkins' name check. Changing the last segment renames the job (history kept); changing the folders replaces it. */
  name: pulumi.Input<string>;
  /** Jenkins base URL. Default: stack config `backtest:jenkinsUrl`, then env BTD_JENKINS_URL. Changing this replaces the job. */
  url?: pulumi.Input<string>;
  /** Jenkins user. Default: stack config `backtest:jenkinsUser`, then env BTD_JENKINS_USER; none means anonymous. */
  username?: pulumi.Input<string>;
  /** API token of `username` (recommended: no crumb needed). Pass a secret. Default: stack config `backtest:jenkinsApiToken`, then env BTD_JENKINS_API_TOKEN. */
  apiToken?: pulumi.Input<string>;
  /** Password of `username`, used with a crumb and session cookie when there is no token. Pass a secret. Default: stack config `backtest:jenkinsPassword`. */
  password?: pulumi.Input<string>;
  /** The Jenkinsfile (path or `{ text }`), given to the template as `jenkinsfile`. Required with the built-in template. */
  jenkinsfile?: pulumi.Input<JenkinsJobSource>;
  /** description.html (path or `{ text }`); `@owner NAME` lines become `owners`. The ownership marker is appended. Default: "". */
  description?: pulumi.Input<JenkinsJobSource>;
  /** The jenkins-config.xml nunjucks template (path or `{ text }`); it must put `{{ description }}` in `<description>`. Default: a built-in declarative pipeline template. Changing its root element replaces the job. */
  template?: pulumi.Input<JenkinsJobSource>;
  /** Template values (may be outputs of other resources), also reachable as `vars.NAME`. Default: {}. */
  vars?: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
  /** String build parameters, given to the template as `parameters` (name, defaultValue, description, trim). Default: []. */
  parameters?: pulumi.Input<pulumi.Input<JenkinsJobParameter>[]>;
  /** Create missing folders of `name`. Default: false. */
  createFolders?: pulumi.Input<boolean>;
  /** Take over an existing job that has no backtest-deploy marker (its config is replaced). Default: false. */
  adopt?: pulumi.Input<boolean>;
  /** Given to the template as `disabled`. Default: false. */
  disabled?: pulumi.Input<boolean>;
}

/** A Jenkins job rendered from the team's repo and deployed through Jenkins' REST API. */
export class JenkinsJob extends pulumi.dynamic.Resource {
  /** The rendered config.xml (as posted). */
  declare readonly config: pulumi.Output<string>;
  /** The job's current full path. */
  declare readonly jobPath: pulumi.Output<string>;
  declare readonly jobName: pulumi.Output<string>;
  declare readonly jobUrl: pulumi.Output<string>;
  /** Jenkins base URL. */
  declare readonly url: pulumi.Output<string>;
  /** sha256 of the canonical config.xml as Jenkins answered it after the last deploy. */
  declare readonly configSha256: pulumi.Output<string>;
  /** From `@owner` annotations of the description. */
  declare readonly owners: pulumi.Output<string[]>;
  declare readonly rootElement: pulumi.Output<string>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: JenkinsJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("JenkinsJob"),
      name,
      {
        btdName: name,
        url: args.url,
        username: args.username,
        apiToken: args.apiToken,
        password: args.password,
        name: args.name,
        jenkinsfile: args.jenkinsfile,
        description: args.description,
        template: args.template,
        vars: args.vars,
        parameters: args.parameters,
        createFolders: args.createFolders,
        adopt: args.adopt,
        disabled: args.disabled,
        // The ownership marker names them, so two projects' `prod` stacks never take each other's jobs.
        pulumiProject: pulumi.getProject(),
        pulumiStack: pulumi.getStack(),
        config: undefined,
        jobPath: undefined,
        jobName: undefined,
        jobUrl: undefined,
        configSha256: undefined,
        owners: undefined,
        rootElement: undefined,
        schemaVersion: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiToken", "password"],
      },
      "backtest",
      "JenkinsJob",
    );
  }
}
