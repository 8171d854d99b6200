/**
 * A real PostgreSQL for tests: Debian's server, a cluster made with initdb
 * in a temporary folder, on a free loopback port. PostgreSQL refuses to run
 * as root, so the cluster belongs to the `postgres` user the Debian package
 * creates, and every server command runs through runuser.
 */
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface Postgres {
  port: number;
  /** A Pulumi backend URL for a database in this cluster. */
  backendUrl(database?: string): string;
  createDatabase(name: string): Promise<void>;
  /** Runs SQL through psql and returns its unaligned, tuples-only output. */
  query(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

const PG_USER = "postgres";

async function pgBin(): Promise<string> {
  const fromEnv = process.env.BTD_PG_BIN;
  if (fromEnv) return fromEnv;
  const { stdout } = await execa("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1"]);
  return stdout.trim();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function uidGid(user: string): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await execa("id", ["-u", user]);
  const { stdout: gid } = await execa("id", ["-g", user]);
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(): Promise<Postgres> {
  const bin = await pgBin();
  const root = await mkdtemp(join(tmpdir(), "btd-pg-"));
  await chmod(root, 0o755);
  const { uid, gid } = await uidGid(PG_USER);
  await chown(root, uid, gid);
  const data = join(root, "data");
  const asPg = (file: string, args: string[]) =>
    execa("runuser", ["-u", PG_USER, "--", file, ...args], { cwd: root });
  await asPg(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", PG_USER, "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  // -w waits until the server accepts connections, so no polling is needed here.
  await asPg(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    join(root, "server.log"),
    "-w",
    "-o",
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "start",
  ]);
  const psql = join(bin, "psql");
  const query = async (sql: string, database = "postgres") => {
    const { stdout } = await execa(psql, [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      PG_USER,
      "-d",
      database,
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      sql,
    ]);
    return stdout;
  };
  return {
    port,
    backendUrl: (database = "pulumi") =>
      `postgres://${PG_USER}@127.0.0.1:${port}/${database}?sslmode=disable`,
    createDatabase: async (name) => {
      await query(`CREATE DATABASE "${name}"`);
    },
    query,
    stop: async () => {
      await asPg(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
