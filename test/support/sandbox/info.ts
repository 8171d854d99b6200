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

/** What a program needs to reach the sandbox's services, from their handles. */
export function sandboxInfoOf(
  filer: Omit<SandboxInfo["filer"], "commandLog">,
  jenkins: { url: string; admin: { name: string; apiToken: string } },
  conda: { channel: string; installer: string },
  commandLog = "",
): SandboxInfo {
  return {
    pid: process.pid,
    filer: {
      host: filer.host,
      port: filer.port,
      user: filer.user,
      privateKey: filer.privateKey,
      hostKey: filer.hostKey,
      hostKeyFingerprint: filer.hostKeyFingerprint,
      root: filer.root,
      commandLog,
    },
    jenkins: { url: jenkins.url, user: jenkins.admin.name, apiToken: jenkins.admin.apiToken },
    conda,
  };
}
