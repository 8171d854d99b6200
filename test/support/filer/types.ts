/** rrsync's restriction: "rw" is none, the others are rrsync's -wo, -ro and -no-del. */
export type FilerMode = "rw" | "wo" | "ro" | "no-del";

/**
 * "python": Debian's /usr/bin/rrsync (rsync 3.2.4+ generation, takes a lock).
 * "legacy": our stand-in for the Perl rrsync of rsync <= 3.2.3 (no lock, fixed option list).
 */
export type RrsyncFlavour = "python" | "legacy";

export interface FilerOptions {
  /** Default: "rw". "no-del" needs rrsync "python". */
  mode?: FilerMode;
  /** rrsync -no-lock. Default: false. The legacy rrsync never locks. */
  noLock?: boolean;
  /** Default: "python". */
  rrsync?: RrsyncFlavour;
  /** How long to wait for sshd to listen. Default: 10_000 ms. */
  startTimeoutMs?: number;
}

export interface RsyncSshCommandOptions {
  /** Host key line to pin instead of the filer's own, e.g. `filer.otherHostKey`. */
  pinnedHostKey?: string;
}

export interface Filer {
  /** Always "127.0.0.1". */
  readonly host: string;
  readonly port: number;
  /** Always "root": the sandbox runs as root and logs in by key only. */
  readonly user: string;
  /** Deploy key, OpenSSH private key format, unencrypted. */
  readonly privateKey: string;
  /** Deploy key's public line, "ssh-ed25519 AAAA...". */
  readonly publicKey: string;
  /** The server's host key line to pin, "ssh-ed25519 AAAA...". */
  readonly hostKey: string;
  /** "SHA256:..." as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  /** A valid host key line that is NOT this server's, to check that a wrong pin is refused. */
  readonly otherHostKey: string;
  /** Absolute path of the folder rrsync restricts the deploy key to. */
  readonly root: string;
  readonly sshdLogPath: string;
  readonly mode: FilerMode;
  readonly rrsync: RrsyncFlavour;
  /** Every SSH_ORIGINAL_COMMAND received since start or the last clear, in order. */
  commandLog(): Promise<string[]>;
  clearCommandLog(): Promise<void>;
  /** `[127.0.0.1]:PORT <key>` for a known_hosts file; defaults to this server's key. */
  knownHostsLine(hostKey?: string): string;
  /**
   * The `rsync -e` value for the system OpenSSH client: key file, pinned
   * known_hosts, StrictHostKeyChecking=yes, BatchMode=yes. The OpenSSH baseline
   * only; the product uses ssh2 with keys in memory.
   */
  rsyncSshCommand(options?: RsyncSshCommandOptions): string;
  /** `root@127.0.0.1:` + path, for rsync's command line. */
  remote(path?: string): string;
  /** Stops sshd and removes the temporary folder (the root included). */
  stop(): Promise<void>;
}
