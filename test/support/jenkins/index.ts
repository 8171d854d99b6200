export { ALL_PERMISSIONS, PERMISSION_INFO, type Permission, type UserSpec } from "./auth.ts";
export type { FaultFilter, FaultKind, Faults } from "./faults.ts";
export { checkGoodName, messages } from "./names.ts";
export {
  DECLARATION,
  DECLARATIVE_JOB_ACTION,
  DECLARATIVE_PLUGIN,
  DECLARATIVE_TRACKER_ACTION,
  PLUGIN_VERSIONS,
  reserialize,
} from "./reserialize.ts";
export {
  DEFAULT_ADMIN,
  type JenkinsOptions,
  type JenkinsStandIn,
  type JobDump,
  type RequestLogEntry,
  startJenkins,
} from "./server.ts";
export { FOLDER_ROOT, ITEM_CLASSES, type ItemRoot, JENKINS_VERSION, type Mode } from "./types.ts";
export { parseXml } from "./xml.ts";
