import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Postgres, startPostgres } from "../../support/postgres/index.ts";

describe("PostgreSQL sandbox", () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("runs a real server as its own user on a loopback port", async () => {
    expect(await pg.query("select current_user")).toBe("postgres");
    expect(await pg.query("select inet_server_addr()")).toBe("127.0.0.1");
    expect(Number(await pg.query("show port"))).toBe(pg.port);
  });

  it("creates databases for Pulumi backends", async () => {
    await pg.createDatabase("team_state");
    expect(await pg.query("select datname from pg_database where datname = 'team_state'")).toBe("team_state");
    expect(pg.backendUrl("team_state")).toBe(
      `postgres://postgres@127.0.0.1:${pg.port}/team_state?sslmode=disable`,
    );
  });
});
