#!/usr/bin/env bash
# CI for the VS Code extension: clean install, lint, typecheck, unit tests,
# bundle, package, and a check of what the .vsix contains.
# Stops at the first failing step and exits non-zero; ends with a summary
# in the node test runner's style (# tests / # pass / # fail).
set -uo pipefail
cd "$(dirname "$0")/.."

total_start=$(date +%s)
steps=0
passed=0
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT

summary() {
  local failed=$1
  local tests pass fail
  tests=$(grep -Eo '^(#|ℹ) tests [0-9]+' "$test_log" | grep -Eo '[0-9]+$' | tail -1)
  pass=$(grep -Eo '^(#|ℹ) pass [0-9]+' "$test_log" | grep -Eo '[0-9]+$' | tail -1)
  fail=$(grep -Eo '^(#|ℹ) fail [0-9]+' "$test_log" | grep -Eo '[0-9]+$' | tail -1)
  echo
  echo "# ci steps $steps"
  echo "# ci steps pass $passed"
  echo "# ci steps fail $failed"
  echo "# ci duration_s $(( $(date +%s) - total_start ))"
  echo "# tests ${tests:-0}"
  echo "# pass ${pass:-0}"
  echo "# fail ${fail:-0}"
}

step() {
  local name=$1
  shift
  steps=$((steps + 1))
  local start
  start=$(date +%s)
  echo "# --- $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "ok $steps - $name ($(( $(date +%s) - start )) s)"
  else
    local rc=$?
    echo "not ok $steps - $name (exit $rc)"
    summary 1
    exit "$rc"
  fi
}

run_tests() {
  npm test 2>&1 | tee "$test_log"
}

bundle_loads() {
  # The bundle must load with only `vscode` external and export activate/deactivate.
  node -r ./out/test/mock/register.js -e '
    const ext = require("./dist/extension.js");
    if (typeof ext.activate !== "function" || typeof ext.deactivate !== "function") {
      console.error("dist/extension.js does not export activate and deactivate");
      process.exit(1);
    }
    console.log("dist/extension.js loads and exports activate, deactivate");
  '
}

check_vsix_files() {
  local expected actual
  expected=$(printf '%s\n' LICENSE README.md dist/extension.js package.json)
  actual=$(npx --no-install vsce ls --no-dependencies | sort)
  if [ "$actual" != "$expected" ]; then
    echo "The .vsix would contain:"
    echo "$actual"
    echo "expected exactly:"
    echo "$expected"
    return 1
  fi
  echo "vsix files: $(echo "$actual" | tr '\n' ' ')"
}

rm -rf out dist tracecot.vsix

# --ignore-scripts: no dependency needs its install script (esbuild finds its
# platform package without it; @vscode/vsce-sign's would download a binary).
step "npm ci" npm ci --no-audit --no-fund --ignore-scripts
step "lint" npm run lint
step "typecheck" npm run typecheck
step "unit tests" run_tests
step "build" npm run build
step "bundle loads" bundle_loads
step "vsix contents" check_vsix_files
step "package" npm run package

summary 0
