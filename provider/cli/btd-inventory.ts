#!/usr/bin/env node
// Entry point of the btd-inventory bin; the logic lives in provider/inventory/.
import { createInterface } from "node:readline/promises";
import { inventoryMain } from "../inventory/main.ts";

const status = await inventoryMain(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  isTty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  confirm: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  },
});
process.exitCode = status;
