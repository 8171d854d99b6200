/**
 * JenkinsJob: a Jenkins job rendered from the team's repo (Jenkinsfile,
 * description.html, jenkins-config.xml template, values) and deployed
 * through Jenkins' REST API.
 *
 * render → compare → deploy: check() renders config.xml (pure, no HTTP) and
 * returns it among the inputs so preview shows it; diff() compares canonical
 * XML; create/update write, then read the job back and keep the canonical
 * hash of what Jenkins made of it, so read() reports drift only when a person
 * changed the job, never because Jenkins re-serialized it.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { KindOps, OpContext, Props } from "./context.ts";
import { BacktestDeployError, hasCode } from "./errors.ts";
import { sha256Text } from "./hash.ts";
import { canonicalXml, canonicalXmlOfParsed, childText, parseXml } from "./jenkins/canonical-xml.ts";
import { JenkinsClient, type JenkinsCredentials, JenkinsHttpError } from "./jenkins/client.ts";
import { DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME } from "./jenkins/default-template.ts";
import { describeOwner, type MarkerOwner, ownershipOf, readMarker, withMarker } from "./jenkins/marker.ts";
import { jobUrlPath, parseJobPath } from "./jenkins/names.ts";
import { parseOwners } from "./jenkins/owners.ts";
import { RESERVED_NAMES, RenderError, type RenderParameter, renderConfigParsed } from "./jenkins/render.ts";
import { registerSecret } from "./redact.ts";
import { resolveSetting } from "./settings.ts";
import { isUnknown, UNKNOWN } from "./unknown.ts";
import { Failures } from "./validate.ts";

export const JENKINS_JOB_SCHEMA_VERSION = 1;

/** Where a file input came from: a path relative to the program folder (or inline text), and its content hash. */
export interface SourceRef {
  path?: string;
  sha256: string;
}

export interface JenkinsJobInputs {
  btdName: string;
  /** Jenkins base URL, ending in `/`. */
  url: string;
  username?: string;
  apiToken?: string;
  password?: string;
  /** The job path the program asks for, e.g. `team/backtests/nightly`. */
  name: string;
  /** Folder part of `name` (`team/backtests`), "" at the root. */
  folder: string;
  /** Last segment of `name`. */
  jobName: string;
  jenkinsfile?: SourceRef;
  description: SourceRef;
  template: SourceRef;
  vars: Record<string, unknown>;
  parameters: RenderParameter[];
  createFolders: boolean;
  adopt: boolean;
  disabled: boolean;
  pulumiProject: string;
  pulumiStack: string;
  /** The rendered config.xml, exactly as it will be posted. */
  config: string;
  /** Root element of the config: `project`, `flow-definition`… A change is a replacement. */
  rootElement: string;
  owners: string[];
  /** Set in preview only: which values are not known yet. */
  knownAtDeploy?: string[];
}

export interface JenkinsJobOutputs extends JenkinsJobInputs {
  /** The job's current full path; differs from `name` only between a rename in the program and the next up. */
  jobPath: string;
  jobUrl: string;
  /** sha256 of the canonical form of the config as Jenkins answered it right after our last write. */
  configSha256: string;
  schemaVersion: number;
}

export function upgradeState(raw: unknown): JenkinsJobOutputs {
  // Version 1 is the first; later versions add their migrations here.
  const state = raw as JenkinsJobOutputs;
  return { ...state, schemaVersion: JENKINS_JOB_SCHEMA_VERSION };
}

// ---------------------------------------------------------------- check

const PLACEHOLDER = (what: string) => `[known at deploy: ${what}]`;

/** Replaces unknown values with a visible placeholder so preview can render everything else. */
function withPlaceholders(value: unknown, path: string, pending: string[]): unknown {
  if (value === UNKNOWN) {
    pending.push(path);
    return PLACEHOLDER(path);
  }
  if (Array.isArray(value)) return value.map((v, i) => withPlaceholders(v, `${path}[${i}]`, pending));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, `${path}.${k}`, pending)]),
    );
  }
  return value;
}

interface Source {
  text: string;
  ref: SourceRef;
}

/** A file input: a path relative to the program folder, or `{ text }`. Identified by content. */
async function readSource(
  f: Failures,
  property: string,
  value: unknown,
  pending: string[],
): Promise<Source | undefined> {
  if (value === undefined || value === null) return undefined;
  if (isUnknown(value)) {
    pending.push(property);
    return { text: PLACEHOLDER(property), ref: { sha256: UNKNOWN } };
  }
  if (typeof value === "object" && typeof (value as { text?: unknown }).text === "string") {
    const text = (value as { text: string }).text;
    return { text, ref: { sha256: sha256Text(text) } };
  }
  if (typeof value !== "string" || value.length === 0) {
    f.add(
      property,
      `${property} must be a file path relative to the program folder or { text }, got ${JSON.stringify(value)}`,
    );
    return undefined;
  }
  const abs = isAbsolute(value) ? value : resolve(value);
  try {
    const text = await readFile(abs, "utf8");
    return { text, ref: { path: relative(process.cwd(), abs) || value, sha256: sha256Text(text) } };
  } catch (err) {
    f.add(
      property,
      `${property}: cannot read "${value}" (${(err as NodeJS.ErrnoException).code ?? String(err)}); paths are relative to the program folder ${process.cwd()}`,
    );
    return undefined;
  }
}

function checkParameters(f: Failures, value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    f.add(
      "parameters",
      `parameters must be a list of { name, default, description? }, got ${JSON.stringify(value)}`,
    );
    return [];
  }
  const seen = new Set<string>();
  return value.map((p, i) => {
    const prop = `parameters[${i}]`;
    if (p === null || typeof p !== "object") {
      f.add(prop, `${prop} must be { name, default, description? }, got ${JSON.stringify(p)}`);
      return undefined;
    }
    const o = p as Record<string, unknown>;
    const name = f.string(`${prop}.name`, o.name, { required: true });
    if (name !== undefined) {
      if (seen.has(name)) f.add(`${prop}.name`, `parameter "${name}" is defined twice`);
      seen.add(name);
    }
    const def = o.default ?? o.defaultValue ?? "";
    if (!isUnknown(def) && typeof def !== "string" && typeof def !== "number" && typeof def !== "boolean") {
      f.add(`${prop}.default`, `${prop}.default must be a string, got ${JSON.stringify(def)}`);
    }
    f.string(`${prop}.description`, o.description);
    f.boolean(`${prop}.trim`, o.trim, true);
    return {
      name: o.name,
      defaultValue: isUnknown(def) ? def : String(def),
      description: o.description ?? "",
      trim: o.trim ?? true,
    };
  });
}

async function check(_olds: Props, news: Props, ctx: OpContext) {
  const f = new Failures();
  const pending: string[] = [];
  const btdName = f.string("btdName", news.btdName) ?? "";

  let url: string | undefined = resolveSetting("jenkinsUrl", news.url, ctx.config);
  if (url === undefined) {
    f.add("url", "url is required: pass it, or set stack config backtest:jenkinsUrl");
  } else if (!isUnknown(url)) {
    try {
      const u = new URL(url);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http(s)");
      if (u.username || u.password)
        f.add("url", "url must not carry credentials; pass username and apiToken instead");
      url = `${u.origin}${u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`}`;
    } catch {
      f.add("url", `url must be an http(s) URL of Jenkins, got ${JSON.stringify(url)}`);
    }
  }
  const username = f.string("username", news.username);
  const apiToken = f.string("apiToken", news.apiToken);
  const password = f.string("password", news.password);
  registerSecret(apiToken);
  registerSecret(password);

  const name = f.string("name", news.name, { required: true });
  // An unknown name (an output of another resource) is rendered as a placeholder; the diff then plans a replace.
  const nameUnknown = isUnknown(news.name);
  if (nameUnknown) pending.push("name");
  let folders: string[] | undefined;
  let jobName: string | undefined;
  if (name !== undefined) {
    const parsed = parseJobPath(name);
    if (parsed.ok) {
      folders = parsed.path.folders;
      jobName = parsed.path.name;
    } else {
      for (const r of parsed.reasons) f.add("name", r);
    }
  }
  const createFolders = f.boolean("createFolders", news.createFolders, false);
  const adopt = f.boolean("adopt", news.adopt, false);
  const disabled = f.boolean("disabled", news.disabled, false);
  if (isUnknown(news.disabled)) pending.push("disabled");
  const pulumiProject = f.string("pulumiProject", news.pulumiProject, { required: true });
  const pulumiStack = f.string("pulumiStack", news.pulumiStack, { required: true });

  let vars: Record<string, unknown> = {};
  if (isUnknown(news.vars) && !(news.vars !== null && typeof news.vars === "object")) {
    pending.push("vars");
  } else if (news.vars !== undefined && news.vars !== null) {
    if (typeof news.vars !== "object" || Array.isArray(news.vars)) {
      f.add("vars", `vars must be an object of template values, got ${JSON.stringify(news.vars)}`);
    } else {
      vars = news.vars as Record<string, unknown>;
      for (const reserved of RESERVED_NAMES) {
        if (Object.hasOwn(vars, reserved)) {
          f.add(
            `vars.${reserved}`,
            `"${reserved}" is set by JenkinsJob itself (from the ${reserved} input); rename this value`,
          );
        }
      }
    }
  }
  const parameters = checkParameters(f, news.parameters);

  const jenkinsfile = await readSource(f, "jenkinsfile", news.jenkinsfile, pending);
  const description = (await readSource(f, "description", news.description, pending)) ?? {
    text: "",
    ref: { sha256: sha256Text("") },
  };
  const template = (await readSource(f, "template", news.template, pending)) ?? {
    text: DEFAULT_TEMPLATE,
    ref: { path: DEFAULT_TEMPLATE_NAME, sha256: sha256Text(DEFAULT_TEMPLATE) },
  };
  if (jenkinsfile === undefined && news.template === undefined && news.jenkinsfile === undefined) {
    f.add("jenkinsfile", "jenkinsfile is required with the built-in pipeline template (or pass a template)");
  }

  if (!f.empty) return { failures: f.list };

  const owner: MarkerOwner = { project: pulumiProject as string, stack: pulumiStack as string };
  const renderVars = withPlaceholders(vars, "vars", pending) as Record<string, unknown>;
  const renderParams = withPlaceholders(parameters, "parameters", pending) as RenderParameter[];
  const fullName = nameUnknown ? UNKNOWN : (name as string);
  let config: string;
  let rootElement: string;
  try {
    const rendered = renderConfigParsed({
      template: template.text,
      templateName: template.ref.path ?? "template",
      jenkinsfile: jenkinsfile?.text ?? "",
      description: withMarker(description.text, owner),
      parameters: renderParams,
      disabled: isUnknown(news.disabled) ? PLACEHOLDER("disabled") : (disabled as boolean),
      name: nameUnknown ? PLACEHOLDER("name") : fullName,
      vars: renderVars,
    });
    config = rendered.xml;
    const root = rendered.root;
    // diff and update compare this text next: its canonical form is remembered now, from the tree at hand.
    canonicalXmlOfParsed(config, root);
    rootElement = root.name;
    const marker = readMarker(childText(root, "description"));
    if (marker === undefined || marker.project !== owner.project || marker.stack !== owner.stack) {
      f.add(
        "template",
        `${template.ref.path ?? "template"}: the rendered config.xml has no ownership marker at the end of <description>; write <description>{{ description }}</description> in the template`,
      );
    }
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    f.add("template", err.message);
    return { failures: f.list };
  }
  if (!f.empty) return { failures: f.list };

  const inputs: JenkinsJobInputs = {
    btdName,
    url: url as string,
    ...(username !== undefined ? { username } : {}),
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(password !== undefined ? { password } : {}),
    name: fullName,
    folder: nameUnknown ? UNKNOWN : (folders as string[]).join("/"),
    jobName: nameUnknown ? UNKNOWN : (jobName as string),
    ...(jenkinsfile ? { jenkinsfile: jenkinsfile.ref } : {}),
    description: description.ref,
    template: template.ref,
    vars,
    parameters: parameters as RenderParameter[],
    createFolders: createFolders as boolean,
    adopt: adopt as boolean,
    disabled: isUnknown(news.disabled) ? (UNKNOWN as unknown as boolean) : (disabled as boolean),
    pulumiProject: owner.project,
    pulumiStack: owner.stack,
    config,
    rootElement,
    owners: parseOwners(description.text),
    ...(pending.length > 0 ? { knownAtDeploy: pending } : {}),
  };
  // Unknown pieces make the whole config unknown to Pulumi's diff, while the placeholder text stays visible.
  return { inputs: inputs as unknown as Props };
}

// ---------------------------------------------------------------- diff

function sameConfig(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string") return false;
  if (a.includes("[known at deploy: ") || b.includes("[known at deploy: ")) return false;
  try {
    return canonicalXml(a) === canonicalXml(b);
  } catch {
    return false;
  }
}

const CREDENTIAL_INPUTS = ["username", "apiToken", "password"] as const;

async function diff(_id: string, olds: Props, news: Props) {
  const o = upgradeState(olds);
  const n = news as unknown as JenkinsJobInputs;
  const replaces: string[] = [];
  if (isUnknown(n.url) || o.url !== n.url) replaces.push("url");
  if (isUnknown(n.folder) || o.folder !== n.folder) replaces.push("folder");
  const typeKnown = !isUnknown(n.rootElement) && !n.knownAtDeploy?.length;
  if (typeKnown && o.rootElement !== n.rootElement) replaces.push("rootElement");
  const currentName = o.jobPath ?? o.name;
  const samePath = !isUnknown(n.name) && currentName === n.name;
  const renamed = o.jobName !== n.jobName;
  // read and delete run with the credentials kept in state: a rotated token must reach it through an update.
  const credentialsChanged = CREDENTIAL_INPUTS.some((k) => o[k] !== n[k]);
  const changes =
    replaces.length > 0 ||
    renamed ||
    credentialsChanged ||
    !sameConfig(o.config, n.config) ||
    Boolean(n.knownAtDeploy?.length);
  return {
    changes,
    replaces,
    // Jenkins refuses a second job of the same name: the old one must go first.
    deleteBeforeReplace: replaces.length > 0 && samePath,
  };
}

// ---------------------------------------------------------------- acting

function credentialsOf(i: JenkinsJobInputs, ctx: OpContext): JenkinsCredentials {
  const username = resolveSetting("jenkinsUser", i.username, ctx.config) ?? "";
  const apiToken = resolveSetting("jenkinsApiToken", i.apiToken, ctx.config);
  const password =
    apiToken === undefined ? resolveSetting("jenkinsPassword", i.password, ctx.config) : undefined;
  registerSecret(apiToken);
  registerSecret(password);
  return {
    username,
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

function clientFor(i: JenkinsJobInputs, ctx: OpContext, op: string): JenkinsClient {
  return new JenkinsClient(i.url, credentialsOf(i, ctx), { resource: ctx.label, op, progress: ctx.progress });
}

function segmentsOf(path: string): string[] {
  return path.split("/");
}

function descriptionOf(xml: string): string | undefined {
  try {
    return childText(parseXml(xml), "description");
  } catch {
    return undefined;
  }
}

const FOLDER_XML =
  "<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.hudson.plugins.folder.Folder>\n  <description></description>\n</com.cloudbees.hudson.plugins.folder.Folder>\n";

function isAlreadyExists(err: unknown): boolean {
  return (
    err instanceof JenkinsHttpError &&
    err.http.status === 400 &&
    /already exists/i.test(err.http.xError ?? "")
  );
}

async function ensureFolders(
  client: JenkinsClient,
  folders: string[],
  create: boolean,
  ctx: OpContext,
  op: string,
) {
  for (let k = 1; k <= folders.length; k++) {
    const path = folders.slice(0, k);
    const cls = await client.itemClass(path);
    if (cls === undefined) {
      if (!create) {
        throw new BacktestDeployError({
          code: "BTD_JENKINS_NO_FOLDER",
          resource: ctx.label,
          op,
          reason: `the folder "${path.join("/")}" does not exist in Jenkins`,
          hint: "create it, or set createFolders: true",
        });
      }
      try {
        await client.createItem(path.slice(0, -1), path[path.length - 1] as string, FOLDER_XML);
        ctx.progress.step(op, `created folder ${path.join("/")}`);
      } catch (err) {
        // Another resource of this deploy created it first.
        if (!isAlreadyExists(err)) throw err;
      }
    } else if (!/Folder$/.test(cls)) {
      throw new BacktestDeployError({
        code: "BTD_JENKINS_NOT_A_FOLDER",
        resource: ctx.label,
        op,
        reason: `"${path.join("/")}" exists in Jenkins but is a ${cls}, not a folder`,
        hint: "choose another job path",
      });
    }
  }
}

function refuseUnowned(existing: string, i: JenkinsJobInputs, ctx: OpContext, op: string): void {
  const me: MarkerOwner = { project: i.pulumiProject, stack: i.pulumiStack };
  const description = descriptionOf(existing);
  const ownership = ownershipOf(description, me);
  if (ownership === "foreign") {
    const other = readMarker(description) as MarkerOwner;
    throw new BacktestDeployError({
      code: "BTD_JENKINS_FOREIGN_JOB",
      resource: ctx.label,
      op,
      reason: `the job "${i.name}" is managed by backtest-deploy ${describeOwner(other)}, not ${describeOwner(me)}`,
      hint: "choose another job name, or remove the job from the other stack first",
    });
  }
  if (ownership === "unmarked" && !i.adopt) {
    throw new BacktestDeployError({
      code: "BTD_JENKINS_UNMARKED_JOB",
      resource: ctx.label,
      op,
      reason: `a job "${i.name}" already exists in Jenkins and was not created by backtest-deploy`,
      hint: "set adopt: true to take it over (its config will be replaced), or choose another name",
    });
  }
}

/** Jenkins cannot change an item's type in place (500); say so before trying. */
function refuseTypeChange(existing: string, i: JenkinsJobInputs, ctx: OpContext): void {
  let type: string | undefined;
  try {
    type = parseXml(existing).name;
  } catch {
    return;
  }
  if (type === i.rootElement) return;
  throw new BacktestDeployError({
    code: "BTD_JENKINS_TYPE_MISMATCH",
    resource: ctx.label,
    op: "create",
    reason: `the existing job "${i.name}" is a <${type}>, the template renders a <${i.rootElement}>, and Jenkins cannot change a job's type in place`,
    hint: `make the template render <${type}>, or delete the job in Jenkins first (its build history goes with it)`,
  });
}

/** What Jenkins made of our write, in canonical form: the reference for drift. */
async function readBack(
  client: JenkinsClient,
  segments: string[],
  ctx: OpContext,
  op: string,
): Promise<string> {
  const back = await client.getConfig(segments);
  if (back === undefined) {
    throw new BacktestDeployError({
      code: "BTD_JENKINS_VANISHED",
      resource: ctx.label,
      op,
      reason: `the job ${segments.join("/")} was written but Jenkins does not return it`,
      hint: "check Jenkins' log; another process may have deleted the job",
    });
  }
  return sha256Text(canonicalXml(back));
}

function outputsOf(i: JenkinsJobInputs, jobPath: string, configSha256: string): JenkinsJobOutputs {
  const { knownAtDeploy: _ignored, ...rest } = i;
  return {
    ...rest,
    jobPath,
    jobUrl: `${i.url}${jobUrlPath(segmentsOf(jobPath))}`,
    configSha256,
    schemaVersion: JENKINS_JOB_SCHEMA_VERSION,
  };
}

async function create(inputs: Props, ctx: OpContext) {
  const i = inputs as unknown as JenkinsJobInputs;
  const client = clientFor(i, ctx, "create");
  const folders = i.folder === "" ? [] : segmentsOf(i.folder);
  const segments = [...folders, i.jobName];
  await ensureFolders(client, folders, i.createFolders, ctx, "create");
  let existing = await client.getConfig(segments);
  if (existing === undefined) {
    try {
      await client.createItem(folders, i.jobName, i.config);
      ctx.progress.step("create", `created ${i.name}`);
    } catch (err) {
      // A retried createItem whose first attempt did create the job, or a race: judge the job that is there.
      if (!isAlreadyExists(err)) throw err;
      existing = await client.getConfig(segments);
      if (existing === undefined) throw err;
    }
  }
  if (existing !== undefined) {
    refuseUnowned(existing, i, ctx, "create");
    refuseTypeChange(existing, i, ctx);
    await client.postConfig(segments, i.config);
    ctx.progress.step("create", `took over existing job ${i.name}`);
  }
  const configSha256 = await readBack(client, segments, ctx, "create");
  return { id: i.name, outs: outputsOf(i, i.name, configSha256) as unknown as Props };
}

async function read(id: string, props: Props, ctx: OpContext) {
  const s = upgradeState(props);
  const client = clientFor(s, ctx, "read");
  const current = await client.getConfig(segmentsOf(s.jobPath));
  if (current === undefined) return {};
  const hash = sha256Text(canonicalXml(current));
  if (hash === s.configSha256) return { id, props: s as unknown as Props };
  // Drift: what Jenkins holds now becomes the old config, so the next diff compares it with the rendered one.
  ctx.progress.step(
    "read",
    `${s.jobPath} was changed outside Pulumi (config.xml differs from the last deploy)`,
  );
  return { id, props: { ...s, config: current, configSha256: hash } as unknown as Props };
}

async function update(_id: string, olds: Props, news: Props, ctx: OpContext) {
  const o = upgradeState(olds);
  const n = news as unknown as JenkinsJobInputs;
  const client = clientFor(n, ctx, "update");
  let current = segmentsOf(o.jobPath);
  const target = [...(n.folder === "" ? [] : segmentsOf(n.folder)), n.jobName];
  if (current.join("/") !== target.join("/")) {
    try {
      await client.rename(current, n.jobName);
    } catch (err) {
      // A retried rename whose first attempt went through: the job already answers at its new name.
      const moved =
        hasCode(err, "BTD_JENKINS_NOT_FOUND") &&
        ownershipOf(descriptionOf((await client.getConfig(target)) ?? ""), {
          project: n.pulumiProject,
          stack: n.pulumiStack,
        }) === "ours";
      if (!moved) throw err;
    }
    ctx.progress.step("update", `renamed ${current.join("/")} to ${target.join("/")} (build history kept)`);
    current = target;
  }
  let configSha256 = o.configSha256;
  if (!sameConfig(o.config, n.config)) {
    await client.postConfig(current, n.config);
    ctx.progress.step("update", `updated config.xml of ${current.join("/")}`);
    configSha256 = await readBack(client, current, ctx, "update");
  }
  return { outs: outputsOf(n, current.join("/"), configSha256) as unknown as Props };
}

async function del(_id: string, props: Props, ctx: OpContext) {
  const s = upgradeState(props);
  const client = clientFor(s, ctx, "delete");
  const segments = segmentsOf(s.jobPath);
  const current = await client.getConfig(segments);
  if (current === undefined) return;
  const me: MarkerOwner = { project: s.pulumiProject, stack: s.pulumiStack };
  const ownership = ownershipOf(descriptionOf(current), me);
  if (ownership !== "ours") {
    throw new BacktestDeployError({
      code: ownership === "foreign" ? "BTD_JENKINS_FOREIGN_JOB" : "BTD_JENKINS_UNMARKED_JOB",
      resource: ctx.label,
      op: "delete",
      reason: `the job ${s.jobPath} no longer carries the marker of ${describeOwner(me)}, so it is not deleted`,
      hint: `restore the marker line at the end of its description (or run up to redeploy it), or drop it from the stack with "pulumi state delete"`,
    });
  }
  await client.deleteItem(segments);
  ctx.progress.step("delete", `deleted ${s.jobPath}`);
}

export const jenkinsJobOps: KindOps = { check, diff, create, read, update, delete: del };
