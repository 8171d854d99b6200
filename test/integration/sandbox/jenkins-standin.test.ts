// The Jenkins stand-in is only worth something if it answers as jenkins-api.md says Jenkins does.
// Each describe below is one section (row) of that page; cases named "(Jenkins source)" come from
// Jenkins' own code where the page is silent.
import { XMLParser } from "fast-xml-parser";
import { Agent, request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type JenkinsStandIn, startJenkins } from "../../support/jenkins/index.ts";

const dispatcher = new Agent({ keepAliveTimeout: 1000 });

interface Answer {
  status: number;
  headers: Record<string, string>;
  bytes: Buffer;
  text: string;
}

interface CallOptions {
  auth?: string | null;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

let jenkins: JenkinsStandIn;

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
}
const adminToken = (): string => basic("admin", jenkins.admin.apiToken);
const adminPassword = (): string => basic("admin", jenkins.admin.password);

async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? adminToken() : options.auth;
  if (auth !== null) headers.authorization = auth;
  const res = await request(new URL(path, jenkins.url), { method, headers, body: options.body, dispatcher });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers))
    if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
  return { status: res.statusCode, headers: flat, bytes, text: bytes.toString("utf8") };
}

/** HTTP clients read header bytes as Latin-1; the stand-in's X-Error carries UTF-8 (see http.ts). */
function xError(answer: Answer): string | undefined {
  const raw = answer.headers["x-error"];
  return raw === undefined ? undefined : Buffer.from(raw, "latin1").toString("utf8");
}

const XML = "application/xml; charset=utf-8";
const create = (parent: string, name: string, body: string, options: CallOptions = {}): Promise<Answer> =>
  call("POST", `${parent}createItem?name=${encodeURIComponent(name)}`, {
    ...options,
    headers: { "content-type": XML, ...options.headers },
    body,
  });
const FOLDER = "<com.cloudbees.hudson.plugins.folder.Folder/>";

// The declarative pipeline of jenkins-api.md "Minimal configs", with the placeholders filled in.
const PIPELINE = `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition>
  <description>Backtest of 'alpha' &amp; "beta"</description>
  <keepDependencies>false</keepDependencies>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>ENV_IMAGE</name>
          <description>conda env image to run with</description>
          <defaultValue>/filer/envs/project-1.0.0.sqsh</defaultValue>
          <trim>true</trim>
        </hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>pipeline {
  agent any
  stages { stage('run') { steps { sh "run.sh &lt; in" } } }
}</script>
    <sandbox>true</sandbox>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>`;

const PIPELINE_MODERN = `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">
  <actions/>
  <description>Backtest of &apos;alpha&apos; &amp; &quot;beta&quot;</description>
  <keepDependencies>false</keepDependencies>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>ENV_IMAGE</name>
          <description>conda env image to run with</description>
          <defaultValue>/filer/envs/project-1.0.0.sqsh</defaultValue>
          <trim>true</trim>
        </hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@4106.v7a_8a_8176d450">
    <script>pipeline {
  agent any
  stages { stage(&apos;run&apos;) { steps { sh &quot;run.sh &lt; in&quot; } } }
}</script>
    <sandbox>true</sandbox>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>`;

const DECLARATIVE_ACTIONS = `  <actions>
    <org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobAction plugin="pipeline-model-definition@2.2255.v56a_15e805f12"/>
    <org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobPropertyTrackerAction plugin="pipeline-model-definition@2.2255.v56a_15e805f12">
      <jobProperties/>
      <triggers/>
      <parameters>
        <string>ENV_IMAGE</string>
      </parameters>
      <options/>
    </org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobPropertyTrackerAction>
  </actions>`;

/** A canonical form as jenkins-api.md prescribes for drift detection, built with a real XML parser. */
function canonical(xml: string): unknown {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    ignoreDeclaration: true,
    parseTagValue: false,
    trimValues: true,
  });
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (k !== "@plugin" && k !== "actions") out[k] = strip(v);
    return out;
  };
  return strip(parser.parse(xml));
}

beforeAll(async () => {
  jenkins = await startJenkins({
    users: [
      { name: "reader", apiToken: "reader-token", permissions: ["read"] },
      { name: "viewer", apiToken: "viewer-token", permissions: ["read", "extendedRead"] },
      {
        name: "bob",
        apiToken: "bob-token",
        password: "bob-password",
        permissions: ["read", "extendedRead", "configure"],
      },
      { name: "carol", password: "carol-password" },
    ],
  });
});
afterAll(async () => {
  await jenkins.stop();
  await dispatcher.close();
});
beforeEach(async () => {
  // Each case starts from an empty Jenkins.
  for (const path of [...jenkins.jobs().keys()].filter((p) => !p.includes("/"))) {
    await call("DELETE", `job/${encodeURIComponent(path)}/`);
  }
  jenkins.setMode("modern");
  jenkins.faults.clear();
  jenkins.clearRequestLog();
});

describe("Paths: /job/a/job/b/ and folders before their items", () => {
  it("`deploy` is /job/deploy/ and `team/backtests/deploy` is /job/team/job/backtests/job/deploy/", async () => {
    expect((await create("", "deploy", "<project/>")).status).toBe(200);
    expect((await create("", "team", FOLDER)).status).toBe(200);
    expect((await create("job/team/", "backtests", FOLDER)).status).toBe(200);
    expect((await create("job/team/job/backtests/", "deploy", PIPELINE)).status).toBe(200);
    expect((await call("GET", "job/deploy/config.xml")).status).toBe(200);
    const nested = await call("GET", "job/team/job/backtests/job/deploy/config.xml");
    expect(nested.status).toBe(200);
    expect(nested.text).toBe(PIPELINE_MODERN);
    expect([...jenkins.jobs().keys()].sort()).toEqual([
      "deploy",
      "team",
      "team/backtests",
      "team/backtests/deploy",
    ]);
    expect(jenkins.jobs().get("team/backtests")?.type).toBe("com.cloudbees.hudson.plugins.folder.Folder");
  });

  it("creating inside a missing folder answers 404 and creates nothing", async () => {
    const answer = await create("job/nowhere/", "deploy", "<project/>");
    expect(answer.status).toBe(404);
    expect(jenkins.jobs().size).toBe(0);
  });

  it("createItem under a job that is not a folder answers 404", async () => {
    await create("", "plain", "<project/>");
    expect((await create("job/plain/", "child", "<project/>")).status).toBe(404);
    expect([...jenkins.jobs().keys()]).toEqual(["plain"]);
  });
});

describe("Name check (applied to create and rename)", () => {
  const refused: Array<[string, string]> = [
    ["", "No name is specified"],
    [".", "“.” is not an allowed name"],
    ["..", "“..” is not an allowed name"],
    ["a\tb", "No control code is allowed: a\\u9;b"],
    ["a\u007fb", "No control code is allowed: a\\u127;b"],
    ...[..."?*/\\%!@#$^&|<>[]:;"].map((ch): [string, string] => [
      `job${ch}x`,
      `‘${ch}’ is an unsafe character`,
    ]),
    ["ends.", "A name cannot end with ‘.’"],
  ];

  it.each(refused)("create refuses %j with 400 and X-Error %j", async (name, reason) => {
    const answer = await create("", name, "<project/>");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe(reason);
    expect(jenkins.jobs().size).toBe(0);
  });

  it("the unsafe quotes are U+2018 and U+2019 in X-Error", async () => {
    const reason = xError(await create("", "a?b", "<project/>"));
    expect([...(reason ?? "")].slice(0, 3).map((c) => c.codePointAt(0))).toEqual([0x2018, 0x3f, 0x2019]);
  });

  it.each(refused.filter(([name]) => name !== ""))(
    "rename refuses %j with 400 and X-Error %j",
    async (name, reason) => {
      await create("", "good", "<project/>");
      const answer = await call("POST", `job/good/confirmRename?newName=${encodeURIComponent(name)}`);
      expect(answer.status).toBe(400);
      expect(xError(answer)).toBe(reason);
      expect([...jenkins.jobs().keys()]).toEqual(["good"]);
    },
  );

  it("surrounding spaces are trimmed before the item is stored (Jenkins source)", async () => {
    expect((await create("", "  spaced  ", "<project/>")).status).toBe(200);
    expect([...jenkins.jobs().keys()]).toEqual(["spaced"]);
  });
});

describe("Create: POST {parent}/createItem?name=NAME", () => {
  it("success is 200 with an empty body and stores the posted config", async () => {
    const answer = await create("", "deploy", PIPELINE);
    expect(answer.status).toBe(200);
    expect(answer.bytes.length).toBe(0);
    expect(jenkins.config("deploy")).toBe(PIPELINE);
    expect(jenkins.jobs().get("deploy")).toEqual({
      type: "flow-definition",
      className: "org.jenkinsci.plugins.workflow.job.WorkflowJob",
      configXml: PIPELINE,
      builds: [],
      building: false,
    });
  });

  it("order: permission (403) comes before Content-Type and name", async () => {
    const answer = await call("POST", "createItem", { auth: basic("bob", "bob-token") });
    expect(answer.status).toBe(403);
    expect(answer.headers["x-you-are-authenticated-as"]).toBe("bob");
    expect(answer.headers["x-required-permission"]).toBe("hudson.model.Item.Create");
    expect(answer.text).toContain("bob is missing the Job/Create permission");
  });

  it("order: Content-Type present comes before name", async () => {
    const answer = await call("POST", "createItem", { body: "<project/>" });
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("No Content-Type header set");
  });

  it("order: name present comes before the name check", async () => {
    const answer = await call("POST", "createItem", { headers: { "content-type": XML }, body: "<project/>" });
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("Query parameter 'name' is required");
  });

  it("order: already exists comes before parse (a malformed body still gets the 400)", async () => {
    await create("", "deploy", "<project/>");
    const answer = await create("", "deploy", "<project>");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("A job already exists with the name ‘deploy’");
  });

  it("already exists: 400 with X-Error `A job already exists with the name ‘NAME’`", async () => {
    await create("", "deploy", "<project/>");
    const answer = await create("", "deploy", "<project/>");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("A job already exists with the name \u2018deploy\u2019");
    expect(answer.text).toContain("A job already exists with the name ‘deploy’");
  });

  it.each([
    ["not well-formed", "<project>"],
    ["two root elements", "<project/><project/>"],
    ["an undeclared entity", "<project><description>&nbsp;</description></project>"],
    ["a DOCTYPE", '<!DOCTYPE project [<!ENTITY x "y">]><project/>'],
  ])("a body with %s is a 500 and nothing is created", async (_what, body) => {
    const answer = await create("", "deploy", body);
    expect(answer.status).toBe(500);
    expect(answer.text).toContain("Failed to persist config.xml");
    expect(jenkins.jobs().size).toBe(0);
  });

  it("a well-formed body with an unknown root element is a 500 and nothing is created", async () => {
    const answer = await create("", "deploy", "<hudson.matrix.MatrixProject/>");
    expect(answer.status).toBe(500);
    expect(answer.text).toContain("CannotResolveClassException: hudson.matrix.MatrixProject");
    expect(jenkins.jobs().size).toBe(0);
  });

  it("Content-Type text/xml is accepted as well as application/xml", async () => {
    expect(
      (await create("", "deploy", "<project/>", { headers: { "content-type": "text/xml" } })).status,
    ).toBe(200);
  });

  it("a non-XML Content-Type without mode is refused with 400 `No mode given` (Jenkins source)", async () => {
    const answer = await create("", "deploy", "<project/>", { headers: { "content-type": "text/plain" } });
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("No mode given");
    expect(jenkins.jobs().size).toBe(0);
  });

  it("GET createItem is refused with 405 (Jenkins source: @RequirePOST)", async () => {
    const answer = await call("GET", "createItem?name=deploy");
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("POST");
  });
});

describe("Read: GET {job}/config.xml", () => {
  it("200 with Content-Type application/xml", async () => {
    await create("", "deploy", PIPELINE);
    const answer = await call("GET", "job/deploy/config.xml");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/xml");
  });

  it("404 for a missing job", async () => {
    expect((await call("GET", "job/missing/config.xml")).status).toBe(404);
  });

  it("403 without Extended Read, 200 with it", async () => {
    await create("", "deploy", PIPELINE);
    const denied = await call("GET", "job/deploy/config.xml", { auth: basic("reader", "reader-token") });
    expect(denied.status).toBe(403);
    expect(denied.headers["x-you-are-authenticated-as"]).toBe("reader");
    expect(denied.headers["x-required-permission"]).toBe("hudson.model.Item.ExtendedRead");
    const allowed = await call("GET", "job/deploy/config.xml", { auth: basic("viewer", "viewer-token") });
    expect(allowed.status).toBe(200);
  });

  it("modern: re-serialized with the 1.1 declaration, plugin attributes and other entity spellings", async () => {
    await create("", "deploy", PIPELINE);
    const answer = await call("GET", "job/deploy/config.xml");
    expect(answer.text).toBe(PIPELINE_MODERN);
    expect(answer.headers["x-jenkins"]).toBe("2.579");
  });

  it("modern: the answer differs in text but parses to the same values (canonical form)", async () => {
    await create("", "deploy", PIPELINE);
    const answer = await call("GET", "job/deploy/config.xml");
    expect(answer.text).not.toBe(PIPELINE);
    expect(canonical(answer.text)).toEqual(canonical(PIPELINE));
  });

  it("modern: default values of omitted fields are filled in", async () => {
    const sparse = `<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"><script>echo 1</script></definition><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions><hudson.model.StringParameterDefinition><name>X</name></hudson.model.StringParameterDefinition></parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></flow-definition>`;
    await create("", "deploy", sparse);
    expect((await call("GET", "job/deploy/config.xml")).text).toBe(`<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">
  <actions/>
  <keepDependencies>false</keepDependencies>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>X</name>
          <trim>false</trim>
        </hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@4106.v7a_8a_8176d450">
    <script>echo 1</script>
    <sandbox>false</sandbox>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>`);
  });

  it("modern: freestyle <project/> comes back with every field Jenkins writes", async () => {
    await create("", "plain", "<project/>");
    expect((await call("GET", "job/plain/config.xml")).text).toBe(`<?xml version='1.1' encoding='UTF-8'?>
<project>
  <actions/>
  <keepDependencies>false</keepDependencies>
  <properties/>
  <scm class="hudson.scm.NullSCM"/>
  <canRoam>true</canRoam>
  <disabled>false</disabled>
  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>
  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>
  <triggers/>
  <concurrentBuild>false</concurrentBuild>
  <builders/>
  <publishers/>
  <buildWrappers/>
</project>`);
  });

  it("modern: a folder comes back with the cloudbees-folder plugin attribute and its views", async () => {
    await create("", "team", FOLDER);
    expect((await call("GET", "job/team/config.xml")).text).toBe(`<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder@6.1012.v79a_86a_1ea_c1f">
  <actions/>
  <properties/>
  <folderViews class="com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder">
    <views>
      <hudson.model.AllView>
        <owner class="com.cloudbees.hudson.plugins.folder.Folder" reference="../../../.."/>
        <name>All</name>
        <filterExecutors>false</filterExecutors>
        <filterQueue>false</filterQueue>
        <properties class="hudson.model.View$PropertyList"/>
      </hudson.model.AllView>
    </views>
    <tabBar class="hudson.views.DefaultViewsTabBar"/>
  </folderViews>
  <healthMetrics/>
  <icon class="com.cloudbees.hudson.plugins.folder.icons.StockFolderIcon"/>
</com.cloudbees.hudson.plugins.folder.Folder>`);
  });

  it("modern: comments go, CDATA becomes escaped text, stale plugin versions are replaced", async () => {
    const posted = `<?xml version="1.0" encoding="UTF-8"?>
<!-- managed by backtest-deploy -->
<flow-definition plugin="workflow-job@2.40">
    <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@2.90">
        <script><![CDATA[if (a < b && c) { echo 'x' }]]></script>
        <sandbox>true</sandbox>
    </definition>
</flow-definition>`;
    await create("", "deploy", posted);
    const text = (await call("GET", "job/deploy/config.xml")).text;
    expect(text).not.toContain("<!--");
    expect(text).toContain("<script>if (a &lt; b &amp;&amp; c) { echo &apos;x&apos; }</script>");
    expect(text).toContain('<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">');
    expect(text).toContain('plugin="workflow-cps@4106.v7a_8a_8176d450"');
  });

  it("modern: after a build of a declarative pipeline <actions> gets Jenkins-managed children", async () => {
    await create("", "deploy", PIPELINE);
    expect(jenkins.simulateBuild("deploy")).toBe(1);
    const text = (await call("GET", "job/deploy/config.xml")).text;
    expect(text).toBe(PIPELINE_MODERN.replace("  <actions/>", DECLARATIVE_ACTIONS));
    expect(canonical(text)).toEqual(canonical(PIPELINE));
    expect(jenkins.config("deploy")).toBe(PIPELINE);
  });

  it("legacy: returns the stored bytes exactly, even after a build", async () => {
    jenkins.setMode("legacy");
    const posted = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<flow-definition>\n\t<description>café 'x'</description>\n</flow-definition>\n`;
    await create("", "deploy", posted);
    jenkins.simulateBuild("deploy");
    const answer = await call("GET", "job/deploy/config.xml");
    expect(answer.bytes.equals(Buffer.from(posted, "utf8"))).toBe(true);
    expect(answer.headers["x-jenkins"]).toBe("2.440.3");
  });

  it("the mode switch applies to the next request", async () => {
    await create("", "plain", "<project/>");
    jenkins.setMode("legacy");
    expect((await call("GET", "job/plain/config.xml")).text).toBe("<project/>");
    jenkins.setMode("modern");
    expect((await call("GET", "job/plain/config.xml")).text).toMatch(
      /^<\?xml version='1\.1' encoding='UTF-8'\?>\n<project>\n {2}<actions\/>/,
    );
  });
});

describe("Update: POST {job}/config.xml", () => {
  const post = (path: string, body: string | Buffer, contentType = XML): Promise<Answer> =>
    call("POST", `${path}config.xml`, { headers: { "content-type": contentType }, body });

  it("200 with an empty body; fields missing from the posted XML are reset", async () => {
    await create("", "deploy", PIPELINE);
    const minimal = `<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"><script>echo 2</script><sandbox>true</sandbox></definition></flow-definition>`;
    const answer = await post("job/deploy/", minimal);
    expect(answer.status).toBe(200);
    expect(answer.bytes.length).toBe(0);
    expect(jenkins.config("deploy")).toBe(minimal);
    const text = (await call("GET", "job/deploy/config.xml")).text;
    expect(text).not.toContain("<description>");
    expect(text).not.toContain("ENV_IMAGE");
    expect(text).toContain("<properties/>");
  });

  it("malformed XML is a 500 `Failed to process config.xml` and nothing is written", async () => {
    await create("", "deploy", PIPELINE);
    const answer = await post("job/deploy/", "<flow-definition><description>x</flow-definition>");
    expect(answer.status).toBe(500);
    expect(answer.text).toContain("Failed to process config.xml");
    expect(jenkins.config("deploy")).toBe(PIPELINE);
  });

  it("changing the root type is a 500 naming both classes and nothing is written", async () => {
    await create("", "deploy", "<project/>");
    const answer = await post("job/deploy/", PIPELINE);
    expect(answer.status).toBe(500);
    expect(answer.text).toContain(
      "Expecting class hudson.model.FreeStyleProject but got class org.jenkinsci.plugins.workflow.job.WorkflowJob instead",
    );
    expect(jenkins.config("deploy")).toBe("<project/>");
    expect(jenkins.jobs().get("deploy")?.type).toBe("project");
  });

  it("404 for a missing job", async () => {
    expect((await post("job/missing/", "<project/>")).status).toBe(404);
  });

  it("403 without Configure", async () => {
    await create("", "deploy", "<project/>");
    const answer = await call("POST", "job/deploy/config.xml", {
      auth: basic("viewer", "viewer-token"),
      headers: { "content-type": XML },
      body: "<project><description>x</description></project>",
    });
    expect(answer.status).toBe(403);
    expect(answer.headers["x-required-permission"]).toBe("hudson.model.Item.Configure");
    expect(jenkins.config("deploy")).toBe("<project/>");
  });

  const accented = "<project><description>café ✓ — Zürich</description></project>";

  it("encoding: with charset=utf-8 non-ASCII text round-trips", async () => {
    await create("", "deploy", "<project/>");
    expect((await post("job/deploy/", Buffer.from(accented, "utf8"))).status).toBe(200);
    expect(jenkins.config("deploy")).toBe(accented);
    expect((await call("GET", "job/deploy/config.xml")).text).toContain(
      "<description>café ✓ — Zürich</description>",
    );
  });

  it("encoding: without a charset the UTF-8 body is decoded as ISO-8859-1 (mojibake)", async () => {
    await create("", "deploy", "<project/>");
    expect((await post("job/deploy/", Buffer.from(accented, "utf8"), "application/xml")).status).toBe(200);
    const stored = jenkins.config("deploy");
    expect(stored).toBe(Buffer.from(accented, "utf8").toString("latin1"));
    expect(stored).toContain("cafÃ©");
    const text = (await call("GET", "job/deploy/config.xml")).text;
    expect(text).toContain("<description>cafÃ©");
    expect(text).not.toContain("café");
  });

  it("encoding: a declared ISO-8859-1 charset decodes Latin-1 bytes correctly", async () => {
    await create("", "deploy", "<project/>");
    const latin = "<project><description>café</description></project>";
    expect(
      (await post("job/deploy/", Buffer.from(latin, "latin1"), "application/xml; charset=ISO-8859-1")).status,
    ).toBe(200);
    expect(jenkins.config("deploy")).toBe(latin);
  });

  it("encoding: createItem follows the same charset rule", async () => {
    await create("", "good", accented);
    await call("POST", "createItem?name=bad", {
      headers: { "content-type": "application/xml" },
      body: Buffer.from(accented, "utf8"),
    });
    expect(jenkins.config("good")).toBe(accented);
    expect(jenkins.config("bad")).toContain("cafÃ©");
  });
});

describe("Delete: POST {job}/doDelete", () => {
  it("302 redirect to the parent on success", async () => {
    await create("", "deploy", "<project/>");
    const answer = await call("POST", "job/deploy/doDelete");
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(jenkins.url);
    expect(jenkins.jobs().has("deploy")).toBe(false);
  });

  it("302 Location names the folder for an item inside a folder", async () => {
    await create("", "team", FOLDER);
    await create("job/team/", "deploy", "<project/>");
    const answer = await call("POST", "job/team/job/deploy/doDelete");
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`${jenkins.url}job/team/`);
    expect([...jenkins.jobs().keys()]).toEqual(["team"]);
  });

  it("404 for a missing job", async () => {
    expect((await call("POST", "job/missing/doDelete")).status).toBe(404);
  });

  it("GET is refused with 405 and nothing is deleted", async () => {
    await create("", "deploy", "<project/>");
    const answer = await call("GET", "job/deploy/doDelete");
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("POST");
    expect(jenkins.jobs().has("deploy")).toBe(true);
  });

  it("DELETE {job}/ also works (204)", async () => {
    await create("", "deploy", "<project/>");
    const answer = await call("DELETE", "job/deploy/");
    expect(answer.status).toBe(204);
    expect(answer.bytes.length).toBe(0);
    expect(jenkins.jobs().size).toBe(0);
    expect((await call("DELETE", "job/deploy/")).status).toBe(404);
  });

  it("deleting a folder deletes its items (Jenkins source)", async () => {
    await create("", "team", FOLDER);
    await create("job/team/", "deploy", "<project/>");
    expect((await call("POST", "job/team/doDelete")).status).toBe(302);
    expect(jenkins.jobs().size).toBe(0);
  });

  it("403 without Delete", async () => {
    await create("", "deploy", "<project/>");
    const answer = await call("POST", "job/deploy/doDelete", { auth: basic("bob", "bob-token") });
    expect(answer.status).toBe(403);
    expect(answer.headers["x-required-permission"]).toBe("hudson.model.Item.Delete");
    expect(jenkins.jobs().has("deploy")).toBe(true);
  });
});

describe("Rename: POST {job}/confirmRename?newName=NEW", () => {
  it("302 on success and the build history is kept", async () => {
    await create("", "old", PIPELINE);
    jenkins.simulateBuild("old");
    jenkins.simulateBuild("old");
    const answer = await call("POST", "job/old/confirmRename?newName=new");
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`${jenkins.url}job/new`);
    expect(jenkins.jobs().has("old")).toBe(false);
    expect(
      jenkins
        .jobs()
        .get("new")
        ?.builds.map((b) => b.number),
    ).toEqual([1, 2]);
    expect((await call("GET", "job/old/config.xml")).status).toBe(404);
    const api = JSON.parse((await call("GET", "job/new/api/json?tree=builds[number],nextBuildNumber")).text);
    expect(api).toEqual({
      _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob",
      builds: [
        { _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 2 },
        { _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun", number: 1 },
      ],
      nextBuildNumber: 3,
    });
  });

  it("a renamed folder keeps its items", async () => {
    await create("", "team", FOLDER);
    await create("job/team/", "deploy", "<project/>");
    expect((await call("POST", "job/team/confirmRename?newName=squad")).status).toBe(302);
    expect([...jenkins.jobs().keys()]).toEqual(["squad", "squad/deploy"]);
  });

  it("legacy alias POST {job}/doRename?newName=NEW", async () => {
    await create("", "old", "<project/>");
    const answer = await call("POST", "job/old/doRename?newName=new");
    expect(answer.status).toBe(302);
    expect([...jenkins.jobs().keys()]).toEqual(["new"]);
  });

  it("400 + X-Error for the same name", async () => {
    await create("", "old", "<project/>");
    const answer = await call("POST", "job/old/confirmRename?newName=old");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("The new name is the same as the current name.");
  });

  it("400 + X-Error `The name “NEW” is already in use.`", async () => {
    await create("", "old", "<project/>");
    await create("", "taken", "<project/>");
    const answer = await call("POST", "job/old/confirmRename?newName=taken");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("The name \u201ctaken\u201d is already in use.");
    expect([...jenkins.jobs().keys()].sort()).toEqual(["old", "taken"]);
  });

  it("400 + X-Error while the job is building", async () => {
    await create("", "old", "<project/>");
    jenkins.setBuilding("old", true);
    const answer = await call("POST", "job/old/confirmRename?newName=new");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("Unable to rename a job while it is building.");
    jenkins.setBuilding("old", false);
    expect((await call("POST", "job/old/confirmRename?newName=new")).status).toBe(302);
  });

  it("400 + X-Error without newName", async () => {
    await create("", "old", "<project/>");
    const answer = await call("POST", "job/old/confirmRename");
    expect(answer.status).toBe(400);
    expect(xError(answer)).toBe("No name is specified");
  });

  it("404 for a missing job and 405 for GET", async () => {
    expect((await call("POST", "job/missing/confirmRename?newName=x")).status).toBe(404);
    await create("", "old", "<project/>");
    expect((await call("GET", "job/old/confirmRename?newName=x")).status).toBe(405);
  });
});

describe("Listing: GET {parent}/api/json?tree=jobs[name,url,_class]", () => {
  it("root listing with _class values and absolute urls", async () => {
    await create("", "free", "<project/>");
    await create("", "pipe", PIPELINE);
    await create("", "team", FOLDER);
    const answer = await call("GET", "api/json?tree=jobs[name,url,_class]");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json;charset=utf-8");
    expect(answer.text).toBe(
      JSON.stringify({
        _class: "hudson.model.Hudson",
        jobs: [
          { _class: "hudson.model.FreeStyleProject", name: "free", url: `${jenkins.url}job/free/` },
          {
            _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob",
            name: "pipe",
            url: `${jenkins.url}job/pipe/`,
          },
          {
            _class: "com.cloudbees.hudson.plugins.folder.Folder",
            name: "team",
            url: `${jenkins.url}job/team/`,
          },
        ],
      }),
    );
  });

  it("folder listing with absolute nested urls", async () => {
    await create("", "team", FOLDER);
    await create("job/team/", "deploy", PIPELINE);
    const answer = await call("GET", "job/team/api/json?tree=jobs[name,url,_class]");
    expect(JSON.parse(answer.text)).toEqual({
      _class: "com.cloudbees.hudson.plugins.folder.Folder",
      jobs: [
        {
          _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob",
          name: "deploy",
          url: `${jenkins.url}job/team/job/deploy/`,
        },
      ],
    });
  });

  it("without tree the listing still carries _class, name and url", async () => {
    await create("", "free", "<project/>");
    const api = JSON.parse((await call("GET", "api/json")).text);
    expect(api.jobs).toEqual([
      {
        _class: "hudson.model.FreeStyleProject",
        name: "free",
        url: `${jenkins.url}job/free/`,
        color: "notbuilt",
      },
    ]);
  });
});

describe("Authentication and CSRF", () => {
  async function crumbFor(
    auth: string,
    cookie?: string,
  ): Promise<{ crumb: string; cookie: string; answer: Answer }> {
    const answer = await call("GET", "crumbIssuer/api/json", { auth, headers: cookie ? { cookie } : {} });
    const body = JSON.parse(answer.text) as { crumb: string };
    const setCookie = answer.headers["set-cookie"] ?? "";
    return { crumb: body.crumb, cookie: cookie ?? setCookie.split(";")[0]!, answer };
  }

  it("user + API token: POST needs no crumb", async () => {
    expect((await create("", "deploy", "<project/>")).status).toBe(200);
  });

  it("GET /crumbIssuer/api/json answers the documented JSON and sets the session cookie", async () => {
    const { crumb, cookie, answer } = await crumbFor(adminPassword());
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json;charset=utf-8");
    expect(crumb).toMatch(/^[0-9a-f]{64}$/);
    expect(answer.text).toBe(
      `{"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"${crumb}","crumbRequestField":"Jenkins-Crumb"}`,
    );
    expect(answer.headers["set-cookie"]).toMatch(/^JSESSIONID\.[0-9a-f]{8}=[^;]+; Path=\/; HttpOnly$/);
    expect(cookie).toMatch(/^JSESSIONID\.[0-9a-f]{8}=/);
  });

  it("user + password: POST with the crumb and the session cookie succeeds", async () => {
    const { crumb, cookie } = await crumbFor(adminPassword());
    const answer = await create("", "deploy", "<project/>", {
      auth: adminPassword(),
      headers: { "Jenkins-Crumb": crumb, cookie },
    });
    expect(answer.status).toBe(200);
  });

  it("user + password: POST without a crumb is 403 `No valid crumb was included in the request`", async () => {
    const answer = await create("", "deploy", "<project/>", { auth: adminPassword() });
    expect(answer.status).toBe(403);
    expect(answer.text).toContain("No valid crumb was included in the request");
    expect(jenkins.jobs().size).toBe(0);
  });

  it("a crumb sent without its session cookie is refused", async () => {
    const { crumb } = await crumbFor(adminPassword());
    const answer = await create("", "deploy", "<project/>", {
      auth: adminPassword(),
      headers: { "Jenkins-Crumb": crumb },
    });
    expect(answer.status).toBe(403);
    expect(answer.text).toContain("No valid crumb was included in the request");
  });

  it("a crumb from another session is refused", async () => {
    const first = await crumbFor(adminPassword());
    const second = await crumbFor(adminPassword());
    expect(second.cookie).not.toBe(first.cookie);
    const answer = await create("", "deploy", "<project/>", {
      auth: adminPassword(),
      headers: { "Jenkins-Crumb": first.crumb, cookie: second.cookie },
    });
    expect(answer.status).toBe(403);
  });

  it("a crumb issued to another user in the same session is refused (Jenkins source)", async () => {
    const carol = await crumbFor(basic("carol", "carol-password"));
    const answer = await create("", "deploy", "<project/>", {
      auth: adminPassword(),
      headers: { "Jenkins-Crumb": carol.crumb, cookie: carol.cookie },
    });
    expect(answer.status).toBe(403);
  });

  it("the crumb is checked before the job lookup (403, not 404, for a missing job)", async () => {
    const answer = await call("POST", "job/missing/doDelete", { auth: adminPassword() });
    expect(answer.status).toBe(403);
    expect(answer.text).toContain("No valid crumb was included in the request");
  });

  it("DELETE needs no crumb: CrumbFilter checks POST only (Jenkins source)", async () => {
    await create("", "deploy", "<project/>");
    expect((await call("DELETE", "job/deploy/", { auth: adminPassword() })).status).toBe(204);
  });

  it.each([
    ["a wrong password", basic("admin", "wrong")],
    ["an unknown user", basic("mallory", "x")],
  ])('%s is 401 with WWW-Authenticate: Basic realm="Jenkins"', async (_what, auth) => {
    const answer = await call("GET", "api/json", { auth });
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe('Basic realm="Jenkins"');
  });

  it("authenticated without Item.Create: 403 with X-You-Are-Authenticated-As and X-Required-Permission", async () => {
    const answer = await create("", "deploy", "<project/>", { auth: basic("bob", "bob-token") });
    expect(answer.status).toBe(403);
    expect(answer.headers["x-you-are-authenticated-as"]).toBe("bob");
    expect(answer.headers["x-required-permission"]).toBe("hudson.model.Item.Create");
    expect(jenkins.jobs().size).toBe(0);
  });

  it("anonymous without permission: 403, not 401 (no anonymous access by default)", async () => {
    const answer = await call("GET", "api/json", { auth: null });
    expect(answer.status).toBe(403);
    expect(answer.headers["www-authenticate"]).toBeUndefined();
    expect(answer.headers["x-you-are-authenticated-as"]).toBe("anonymous");
    expect(answer.headers["x-required-permission"]).toBe("hudson.model.Hudson.Read");
  });

  it("anonymous access is configurable, and anonymous POSTs still need a crumb", async () => {
    const open = await startJenkins({ anonymous: ["read"] });
    try {
      const list = await request(`${open.url}api/json`, { dispatcher });
      expect(list.statusCode).toBe(200);
      await list.body.dump();
      const noCrumb = await request(`${open.url}createItem?name=x`, {
        method: "POST",
        headers: { "content-type": XML },
        body: "<project/>",
        dispatcher,
      });
      expect(noCrumb.statusCode).toBe(403);
      expect(await noCrumb.body.text()).toContain("No valid crumb was included in the request");
      const issued = await request(`${open.url}crumbIssuer/api/json`, { dispatcher });
      const { crumb } = (await issued.body.json()) as { crumb: string };
      const cookie = String(issued.headers["set-cookie"]).split(";")[0]!;
      const withCrumb = await request(`${open.url}createItem?name=x`, {
        method: "POST",
        headers: { "content-type": XML, "Jenkins-Crumb": crumb, cookie },
        body: "<project/>",
        dispatcher,
      });
      expect(withCrumb.statusCode).toBe(403);
      expect(withCrumb.headers["x-you-are-authenticated-as"]).toBe("anonymous");
      expect(withCrumb.headers["x-required-permission"]).toBe("hudson.model.Item.Create");
      await withCrumb.body.dump();
      expect(open.jobs().size).toBe(0);
    } finally {
      await open.stop();
    }
  });
});

describe("Minimal configs", () => {
  it("freestyle <project/> and the documented declarative pipeline are both valid", async () => {
    expect((await create("", "free", "<project/>")).status).toBe(200);
    expect((await create("", "pipe", PIPELINE)).status).toBe(200);
    expect(jenkins.jobs().get("free")?.className).toBe("hudson.model.FreeStyleProject");
  });
});

describe("Fault injection (transient failures the provider retries)", () => {
  afterEach(() => jenkins.faults.clear());

  it("latency delays every answer by at least the configured time", async () => {
    jenkins.faults.setLatency(150);
    const started = performance.now();
    expect((await call("GET", "api/json")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("the next N requests answer 503, then Jenkins answers again", async () => {
    jenkins.faults.failNext(2);
    expect((await call("GET", "api/json")).status).toBe(503);
    expect((await create("", "deploy", "<project/>")).status).toBe(503);
    expect(jenkins.jobs().size).toBe(0);
    expect((await create("", "deploy", "<project/>")).status).toBe(200);
    expect(jenkins.requests().map((r) => [r.status, r.fault])).toEqual([
      [503, "unavailable"],
      [503, "unavailable"],
      [200, undefined],
    ]);
  });

  it("502 and 504 can be injected, limited by method and path", async () => {
    jenkins.faults.failNext(1, { status: 502, filter: { method: "POST", path: "/createItem" } });
    expect((await call("GET", "api/json")).status).toBe(200);
    expect((await create("", "deploy", "<project/>")).status).toBe(502);
    jenkins.faults.failNext(1, { status: 504, filter: { path: /config\.xml$/ } });
    expect((await create("", "deploy", "<project/>")).status).toBe(200);
    expect((await call("GET", "job/deploy/config.xml")).status).toBe(504);
  });

  it("reset destroys the socket before answering and nothing is written", async () => {
    jenkins.faults.resetNext(1);
    await expect(create("", "deploy", "<project/>")).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
    expect(jenkins.jobs().size).toBe(0);
    expect(jenkins.requests()[0]).toMatchObject({ status: 0, fault: "reset", write: true });
    expect((await create("", "deploy", "<project/>")).status).toBe(200);
  });

  it("reset after handling: the create happened but its answer is lost", async () => {
    jenkins.faults.resetNext(1, { afterHandling: true });
    await expect(create("", "deploy", "<project/>")).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
    expect(jenkins.jobs().has("deploy")).toBe(true);
    expect(xError(await create("", "deploy", "<project/>"))).toBe(
      "A job already exists with the name ‘deploy’",
    );
  });

  it("restart: 503 `getting ready` for a while, then recovers with jobs kept and sessions lost", async () => {
    await create("", "deploy", PIPELINE);
    jenkins.simulateBuild("deploy");
    const { crumb, cookie } = await (async () => {
      const answer = await call("GET", "crumbIssuer/api/json", { auth: adminPassword() });
      return {
        crumb: (JSON.parse(answer.text) as { crumb: string }).crumb,
        cookie: answer.headers["set-cookie"]!.split(";")[0]!,
      };
    })();
    const before = (await call("GET", "job/deploy/config.xml")).headers["x-jenkins-session"];
    const back = jenkins.faults.restart(300);
    expect(jenkins.faults.restarting).toBe(true);
    const during = await call("GET", "job/deploy/config.xml");
    expect(during.status).toBe(503);
    expect(during.text).toContain("Please wait while Jenkins is getting ready to work");
    expect(jenkins.requests().at(-1)?.fault).toBe("restarting");
    await back;
    const after = await call("GET", "job/deploy/config.xml");
    expect(after.status).toBe(200);
    expect(after.headers["x-jenkins-session"]).not.toBe(before);
    expect(
      jenkins
        .jobs()
        .get("deploy")
        ?.builds.map((b) => b.number),
    ).toEqual([1]);
    const stale = await create("", "other", "<project/>", {
      auth: adminPassword(),
      headers: { "Jenkins-Crumb": crumb, cookie },
    });
    expect(stale.status).toBe(403);
  });
});

describe("Observability and test hooks", () => {
  it("the request log records method, path, query, status, write and user, never the credentials", async () => {
    await create("", "deploy", "<project/>");
    await call("GET", "job/deploy/config.xml", { auth: adminPassword() });
    await call("GET", "api/json", { auth: basic("admin", "wrong") });
    expect(jenkins.requests()).toEqual([
      { method: "POST", path: "/createItem", query: "name=deploy", status: 200, write: true, user: "admin" },
      { method: "GET", path: "/job/deploy/config.xml", query: "", status: 200, write: false, user: "admin" },
      { method: "GET", path: "/api/json", query: "", status: 401, write: false, user: undefined },
    ]);
    const dump = JSON.stringify(jenkins.requests());
    for (const secret of [
      jenkins.admin.apiToken,
      jenkins.admin.password,
      adminToken(),
      adminPassword(),
      "wrong",
    ]) {
      expect(dump).not.toContain(secret);
    }
    jenkins.clearRequestLog();
    expect(jenkins.requests()).toEqual([]);
  });

  it("editInUi changes the stored config like a save in the web UI", async () => {
    await create("", "deploy", PIPELINE);
    jenkins.editInUi("deploy", (xml) => xml.replace("<sandbox>true</sandbox>", "<sandbox>false</sandbox>"));
    expect(jenkins.config("deploy")).toContain("<sandbox>false</sandbox>");
    expect((await call("GET", "job/deploy/config.xml")).text).toContain("<sandbox>false</sandbox>");
    expect(() => jenkins.editInUi("deploy", () => "<project/>")).toThrow(/cannot change/);
    expect(() => jenkins.editInUi("deploy", () => "<flow-definition>")).toThrow(/not well-formed/);
  });

  it("simulateBuild numbers builds and refuses folders and missing jobs", async () => {
    await create("", "team", FOLDER);
    await create("job/team/", "deploy", "<project/>");
    expect(jenkins.simulateBuild("team/deploy")).toBe(1);
    expect(jenkins.simulateBuild("team/deploy")).toBe(2);
    expect(() => jenkins.simulateBuild("team")).toThrow(/folder/);
    expect(() => jenkins.simulateBuild("nope")).toThrow(/no item/);
    // A freestyle job gains no declarative actions.
    expect((await call("GET", "job/team/job/deploy/config.xml")).text).toContain("  <actions/>\n");
  });
});
