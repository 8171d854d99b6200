#!/usr/bin/env node
// Entry point of the btd-mount bin; the logic lives in provider/mount/.
import { mountMain } from "../mount/main.ts";

const status = await mountMain(process.argv.slice(2), {
  stderr: (line) => process.stderr.write(`${line}\n`),
  stdout: (line) => process.stdout.write(`${line}\n`),
  env: process.env,
});
process.exitCode = status;
