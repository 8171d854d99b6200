/**
 * The config.xml template used when a job names none: a declarative
 * pipeline whose script is the Jenkinsfile, with string build parameters so
 * a developer can override env, script and output folder for one build.
 */
export const DEFAULT_TEMPLATE_NAME = "(built-in pipeline template)";

export const DEFAULT_TEMPLATE = `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition>
  <description>{{ description }}</description>
  <keepDependencies>false</keepDependencies>
  <properties>
{%- if parameters | length %}
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
{%- for p in parameters %}
        <hudson.model.StringParameterDefinition>
          <name>{{ p.name }}</name>
          <description>{{ p.description }}</description>
          <defaultValue>{{ p.defaultValue }}</defaultValue>
          <trim>{{ p.trim }}</trim>
        </hudson.model.StringParameterDefinition>
{%- endfor %}
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
{%- endif %}
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>{{ jenkinsfile }}</script>
    <sandbox>true</sandbox>
  </definition>
  <triggers/>
  <disabled>{{ disabled }}</disabled>
</flow-definition>
`;
