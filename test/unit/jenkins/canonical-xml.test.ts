import { describe, expect, it } from "vitest";
import {
  canonicalSha256,
  canonicalXml,
  canonicalXmlOfParsed,
  forgetCanonicalForms,
  parseXml,
  XmlSyntaxError,
} from "../../../provider/jenkins/canonical-xml.ts";

const posted = `<?xml version='1.0' encoding='UTF-8'?>
<flow-definition>
  <description>it's "x" &amp; y</description>
  <properties/>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>echo 'a &lt; b'</script>
    <sandbox>true</sandbox>
  </definition>
</flow-definition>
`;

// The same job as Jenkins 2.568+ answers it: declaration 1.1, plugin attributes, other entity spellings and indentation.
const reserialized = `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">
    <description>it&apos;s &quot;x&quot; &amp; y</description>
    <properties></properties>
    <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@4106.v7a_8a_8176d450">
        <script>echo &apos;a &lt; b&apos;</script>
        <sandbox>true</sandbox>
    </definition>
</flow-definition>`;

describe("canonicalXml: equivalent spellings are equal", () => {
  it("modern re-serialization (declaration, plugin attributes, entities, indentation, <x/> vs <x></x>)", () => {
    expect(canonicalXml(reserialized)).toBe(canonicalXml(posted));
    expect(canonicalSha256(reserialized)).toBe(canonicalSha256(posted));
  });

  it("numeric character references and CDATA", () => {
    const a = "<project><description>&#39;&#x26;&#60;é</description></project>";
    const b = "<project><description><![CDATA['&<]]>&#xe9;</description></project>";
    expect(canonicalXml(a)).toBe(canonicalXml(b));
  });

  it("attribute order and plugin attribute changes after a plugin upgrade", () => {
    const a = `<project><scm class="hudson.plugins.git.GitSCM" plugin="git@5.7.0" x="1"/></project>`;
    const b = `<project><scm x="1" plugin="git@5.8.1" class="hudson.plugins.git.GitSCM"/></project>`;
    expect(canonicalXml(a)).toBe(canonicalXml(b));
  });

  it("actions Jenkins records after a declarative build", () => {
    const after = reserialized.replace(
      "<description>",
      `<actions>
        <org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobAction plugin="pipeline-model-definition@2.2255.v56a_15e805f12"/>
        <org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobPropertyTrackerAction plugin="pipeline-model-definition@2.2255.v56a_15e805f12">
          <jobProperties/><triggers/><parameters><string>ENV</string></parameters><options/>
        </org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobPropertyTrackerAction>
      </actions>
    <description>`,
    );
    expect(canonicalXml(after)).toBe(canonicalXml(posted));
  });

  it("CR LF line endings in the document", () => {
    expect(canonicalXml(posted.replace(/\n/g, "\r\n"))).toBe(canonicalXml(posted));
  });
});

describe("canonicalXml: real changes differ", () => {
  it("a UI edit of the script", () => {
    expect(canonicalXml(reserialized.replace("echo &apos;a", "echo &apos;b"))).not.toBe(canonicalXml(posted));
  });
  it("whitespace inside a text value (a script is code)", () => {
    expect(canonicalXml(posted.replace("echo 'a", "echo  'a"))).not.toBe(canonicalXml(posted));
  });
  it("a changed non-plugin attribute", () => {
    expect(canonicalXml(posted.replace("cps.CpsFlowDefinition", "cps.CpsScmFlowDefinition"))).not.toBe(
      canonicalXml(posted),
    );
  });
  it("a parameter added in the UI", () => {
    const edited = reserialized.replace(
      "<properties></properties>",
      "<properties><hudson.model.ParametersDefinitionProperty/></properties>",
    );
    expect(canonicalXml(edited)).not.toBe(canonicalXml(posted));
  });
  it("an element that is not Jenkins-managed nested under actions elsewhere", () => {
    const a = "<project><builders><actions><x/></actions></builders></project>";
    expect(canonicalXml(a)).not.toBe(canonicalXml("<project><builders><actions/></builders></project>"));
  });
  it("a carriage return written as &#xd; is data", () => {
    expect(canonicalXml("<project><d>a&#xd;\nb</d></project>")).not.toBe(
      canonicalXml("<project><d>a\nb</d></project>"),
    );
  });
});

describe("parseXml", () => {
  it("reports line and column of malformed XML", () => {
    try {
      parseXml("<project>\n  <a>\n</project>");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(XmlSyntaxError);
      expect((err as XmlSyntaxError).line).toBe(3);
    }
  });
  it("refuses undeclared entities and DOCTYPE", () => {
    expect(() => parseXml("<project>&nbsp;</project>")).toThrow(/undeclared entity/);
    expect(() => parseXml(`<!DOCTYPE x [<!ENTITY e "x">]><project/>`)).toThrow(/DOCTYPE/);
  });
});

describe("canonicalXml remembers forms, not mistakes", () => {
  it("a remembered text gives the same form as a cold parse", () => {
    const text = `<?xml version='1.1' encoding='UTF-8'?>\n<project plugin="x@1">\n  <a>&amp;</a>\n</project>`;
    const warm = canonicalXml(text);
    forgetCanonicalForms();
    expect(canonicalXml(text)).toBe(warm);
    expect(warm).toBe("<project><a>&amp;</a></project>");
  });

  it("the form given from a parsed tree is the form of the text", () => {
    const text = "<project>\n  <b c='1'/>\n</project>";
    forgetCanonicalForms();
    expect(canonicalXmlOfParsed(text, parseXml(text))).toBe(canonicalXml(text));
  });

  it("malformed text throws every time", () => {
    expect(() => canonicalXml("<project><a></project>")).toThrow();
    expect(() => canonicalXml("<project><a></project>")).toThrow();
  });
});
