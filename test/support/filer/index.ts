export { isMountPoint, type MountedImage, mountImage } from "./mount-image.ts";
export { startFiler } from "./start-filer.ts";
export type { Filer, FilerMode, FilerOptions, RrsyncFlavour, RsyncSshCommandOptions } from "./types.ts";
