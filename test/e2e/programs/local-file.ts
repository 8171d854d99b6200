// A minimal program for the foundation tests: one LocalFile whose path,
// content and presence come from the environment, so each test step can
// change one thing at a time.
import { LocalFile } from "backtest-deploy";

export default async () => {
  if (process.env.BTD_TEST_INCLUDE === "0") return {};
  const file = new LocalFile("marker", {
    path: process.env.BTD_TEST_PATH ?? "out/marker.txt",
    content: process.env.BTD_TEST_CONTENT ?? "first",
  });
  return { sha256: file.sha256 };
};
