#!/usr/bin/env bash
# Copies every config/**/*.example to its real name (the reference's setup-config.sh).
# Existing files are never overwritten. With -t / --test, also writes test.<name>
# copies next to them, which the worker reads when started with --env test.
# CONFIG_DIR=<dir> works on another config directory (a service root's config/, holding
# the .example files) instead of the repository's.
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
config_dir="${CONFIG_DIR:-$root/config}"
with_test=0
for arg in "$@"; do
  case "$arg" in
    -t|--test) with_test=1 ;;
    -h|--help) echo "usage: [CONFIG_DIR=<dir>] $0 [-t|--test]"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

# find's failure would be hidden by the process substitution below: check first.
if [ ! -d "$config_dir" ]; then
  echo "setup-config.sh: $config_dir is not a directory (set CONFIG_DIR to a config directory)" >&2
  exit 1
fi
if [ -z "$(find "$config_dir" -type f -name '*.example' -print -quit)" ]; then
  echo "setup-config.sh: no *.example file under $config_dir (copy the repository's config/ there first)" >&2
  exit 1
fi

copy_if_missing() {
  if [ -e "$2" ]; then
    echo "kept    $2"
  else
    cp "$1" "$2"
    echo "created $2"
  fi
}

while IFS= read -r -d '' example; do
  target="${example%.example}"
  copy_if_missing "$example" "$target"
  if [ "$with_test" = 1 ]; then
    copy_if_missing "$example" "$(dirname "$target")/test.$(basename "$target")"
  fi
done < <(find "$config_dir" -type f -name '*.example' -print0 | sort -z)
