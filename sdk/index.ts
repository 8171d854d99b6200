export { LocalFile, type LocalFileArgs } from "./local-file.ts";
