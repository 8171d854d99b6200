// Program for the preview-summary e2e test: LocalFiles whose set and inputs
// come from BTD_SUMMARY_STEP, so step 2's preview holds a create, an update,
// a replace and a delete.
import { LocalFile } from "backtest-deploy";

export default async () => {
  const step = process.env.BTD_SUMMARY_STEP ?? "1";
  new LocalFile("kept", { path: "out/kept.txt", content: "same" });
  new LocalFile("edited", {
    path: "out/edited.txt",
    content: step === "1" ? "version 1.0.0" : "version 1.1.0",
  });
  new LocalFile("moved", { path: step === "1" ? "out/moved-a.txt" : "out/moved-b.txt", content: "moving" });
  if (step === "1") new LocalFile("dropped", { path: "out/dropped.txt", content: "bye" });
  else new LocalFile("added", { path: "out/added.txt", content: "hello" });
  return {};
};
