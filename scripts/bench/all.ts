/**
 * `npm run bench`: every benchmark, one after the other, each printing its
 * figures beside its baseline and the ratio. Sizes are the issues' (2 GiB
 * squash tree, 1 GiB upload, 500 jobs, also as a whole `pulumi up`); pass
 * --quick for smaller ones.
 */
import { execa } from "execa";

const quick = process.argv.includes("--quick");
const benches: [string, string[]][] = [
  ["squash", quick ? ["--size-mib", "256", "--runs", "3"] : ["--size-mib", "2048", "--runs", "5"]],
  ["upload", quick ? ["--size-mib", "256", "--runs", "3"] : ["--size-mib", "1024", "--runs", "3"]],
  ["jenkins", quick ? ["--jobs", "100"] : ["--jobs", "500", "--with-pulumi"]],
  ["noop-up", quick ? ["--runs", "3"] : ["--runs", "5"]],
];
for (const [name, args] of benches) {
  console.log(`\n=== ${name} ===`);
  const r = await execa("node", ["--no-warnings", `scripts/bench/${name}.ts`, ...args], {
    stdio: "inherit",
    reject: false,
  });
  if (r.exitCode !== 0) console.log(`(${name} exited with ${r.exitCode})`);
}
