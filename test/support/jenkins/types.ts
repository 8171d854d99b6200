// Item kinds Jenkins (core + cloudbees-folder + workflow-job) can load from a config.xml root element.
export const ITEM_CLASSES = {
  project: "hudson.model.FreeStyleProject",
  "flow-definition": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
  "com.cloudbees.hudson.plugins.folder.Folder": "com.cloudbees.hudson.plugins.folder.Folder",
} as const;

export type ItemRoot = keyof typeof ITEM_CLASSES;
export const FOLDER_ROOT = "com.cloudbees.hudson.plugins.folder.Folder";

export function isItemRoot(name: string): name is ItemRoot {
  return Object.hasOwn(ITEM_CLASSES, name);
}

export type Mode = "modern" | "legacy";

// Versions the X-Jenkins header reports in each mode: re-serializing GET config.xml arrived in 2.568.
export const JENKINS_VERSION: Record<Mode, string> = { modern: "2.579", legacy: "2.440.3" };
