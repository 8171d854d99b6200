/** What the sandbox process publishes in sandbox.json. */
export interface SandboxInfo {
  pid: number;
  filer: {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    hostKey: string;
    hostKeyFingerprint: string;
    /** The rrsync root folder: where pushed files land. */
    root: string;
    commandLog: string;
  };
  jenkins: { url: string; user: string; apiToken: string };
  conda: { channel: string; installer: string };
}
