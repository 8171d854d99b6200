// One CondaSquashEnv whose project version, channel, installer and prefix
// root come from the environment, so each test step changes one thing.
import { CondaSquashEnv } from "backtest-deploy";

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

export default async () => {
  const version = process.env.BTD_TEST_MEANREV_VERSION ?? "1.0.0";
  const env = new CondaSquashEnv("env", {
    specs: [`meanrev=${version}`, "python=3.11"],
    channels: need("BTD_TEST_CHANNELS").split(","),
    installer: need("BTD_TEST_INSTALLER"),
    installerDialect: "mamba",
    prefixRoot: need("BTD_TEST_PREFIX_ROOT"),
    smokeTest: ["python -c 'import meanrev'", "meanrev-backtest --help"],
    squashfs: { compression: "zstd", level: 3, blockSize: 131072 },
  });
  return {
    imagePath: env.imagePath,
    sha256: env.sha256,
    prefix: env.prefix,
    installerVersion: env.installerVersion,
  };
};
