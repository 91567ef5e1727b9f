#!/usr/bin/env bash
# Builds the tools image: ccaas-deploy (the entrypoint) and ccaas-package as static release binaries
# (`ccaas-deploy build-static`), assembled by `ccaas-deploy image` into one reproducible layer, user
# 65532:65532, no shell. The arguments go to `ccaas-deploy image`: where to write or push it.
#
#   deploy/tools-image.sh --tag localhost/ccaas-tools:0.1 --docker-archive ccaas-tools.tar
#   deploy/tools-image.sh --push ghcr.io/OWNER/ccaas-tools:0.1     # credentials as for `image --push`
#
# CCAAS_TOOLS_BIN=DIR takes both binaries from DIR instead of building them (a dynamically linked
# binary gets its libraries copied in). Prints the image's digest and size (as `ccaas-deploy image`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CCAAS_TOOLS_BIN:-}" ]; then
  deploy=$CCAAS_TOOLS_BIN/ccaas-deploy
  package=$CCAAS_TOOLS_BIN/ccaas-package
else
  # build-static prints the binary's path on its first line.
  build_static() { cargo run --quiet --locked -p ccaas-deploy -- build-static -p "$1" --no-layout | sed -n 1p; }
  package=$(build_static ccaas-package)
  deploy=$(build_static ccaas-deploy)
fi
exec "$deploy" image "$deploy" --add-binary "$package" --no-port "$@"
