#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code workbench.
#
# The .vsix that scripts/ci.sh builds is installed into a fresh profile of code-server (VS Code
# in the browser, from the npm registry), which listens on 127.0.0.1 only. drive.js then drives
# the workbench with Playwright (playwright-core) and Debian's chromium: it opens a workspace with
# a Python file, hovers a function, reads the code lens, and runs "Explain this run" and "What
# input gives this output?" from the command palette, asserting what a person would see.
# Screenshots go to $E2E_DIR/shots.
#
#   bash client-vscode/e2e/run.sh          # everything: install, build the .vsix if needed, test
#   bash client-vscode/e2e/run.sh install  # only the tools (apt + npm)
#
# Every file it writes stays under $E2E_DIR (default: <repo>/.vscode-e2e, gitignored); deleting
# that folder starts from scratch. Needs the Python venv (`make setup`): the extension starts
# the server with <repo>/.venv/bin/python through the tracecot.interpreter setting.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLIENT=$ROOT/client-vscode
E2E_DIR=${E2E_DIR:-$ROOT/.vscode-e2e}
PYTHON=${E2E_PYTHON:-$ROOT/.venv/bin/python}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
TOOLS=$E2E_DIR/tools             # npm project: code-server + playwright-core (package.json here)
CODE_SERVER=$TOOLS/node_modules/.bin/code-server
VSIX=$CLIENT/tracecot.vsix

# The real home's npm settings (registry, proxy...) still apply to the installs below.
if [ -z "${NPM_CONFIG_USERCONFIG:-}" ] && [ -f "${HOME:-/nonexistent}/.npmrc" ]; then
  export NPM_CONFIG_USERCONFIG=$HOME/.npmrc
fi
# Keep code-server's, npm's and chromium's own state out of the real home.
export HOME=$E2E_DIR/home
export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share XDG_CACHE_HOME=$HOME/.cache
export TMPDIR=$E2E_DIR/tmp
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$TMPDIR"

log() { echo "[e2e $(date +%H:%M:%S)] $*"; }

# ---------------------------------------------------------------------------------- tools
APT_PACKAGES=(
  chromium              # the browser Playwright drives (no browser download)
  ripgrep               # replaces the rg binary that @vscode/ripgrep would download
  build-essential pkg-config python3   # native modules of code-server (node-gyp)
  libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
  curl
)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_npm() {
  # Reinstall only when package.json or the lockfile changed.
  if [ -x "$CODE_SERVER" ] && [ -d "$TOOLS/node_modules/playwright-core" ] &&
     cmp -s "$HERE/package.json" "$TOOLS/package.json" &&
     cmp -s "$HERE/package-lock.json" "$TOOLS/package-lock.json"; then
    return 0
  fi
  log "npm: installing code-server and playwright-core into $TOOLS (a few minutes)"
  rm -rf "$TOOLS"
  mkdir -p "$TOOLS"
  cp "$HERE/package.json" "$TOOLS/"
  [ -f "$HERE/package-lock.json" ] && cp "$HERE/package-lock.json" "$TOOLS/"
  # @vscode/ripgrep (a code-server dependency) downloads rg from GitHub unless its cache holds
  # the archive it wants: put Debian's rg (the same 13.0.0) there.
  local rg_version rg_cache
  rg_version=1.15.11   # the @vscode/ripgrep in code-server 4.100.3's lib/vscode shrinkwrap
  rg_cache=$TMPDIR/vscode-ripgrep-cache-$rg_version
  mkdir -p "$rg_cache"
  tar czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  (
    cd "$TOOLS"
    # node-gyp builds against Debian's Node headers (no header download); node-pty's install
    # runs `npx node-gyp`, which must not stop to ask; code-server's postinstall refuses to
    # run as root without unsafe-perm. A local install: a global one makes code-server's own
    # nested `npm install` write into the global tree.
    export npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [ -f package-lock.json ]; then
      npm ci --no-audit --no-fund --unsafe-perm
    else
      npm install --no-audit --no-fund --unsafe-perm
    fi
  )
  "$CODE_SERVER" --version
}

# ---------------------------------------------------------------------------------- .vsix
build_vsix() {
  # The .vsix that CI packaged, unless a source file is newer than it.
  if [ -f "$VSIX" ] && [ -z "$(find "$CLIENT/src" "$CLIENT/package.json" "$CLIENT/package-lock.json" \
       "$CLIENT/README.md" "$CLIENT/LICENSE" -newer "$VSIX" -print -quit)" ]; then
    log "using $VSIX (newer than the sources)"
    return 0
  fi
  log "building $VSIX with scripts/ci.sh"
  bash "$CLIENT/scripts/ci.sh"
}

# ---------------------------------------------------------------------------------- workbench
PORT=
SERVER_PGID=

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_server() {
  if [ -n "$SERVER_PGID" ]; then
    # code-server, its extension host and the tracecot server share one process group.
    kill -- "-$SERVER_PGID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$SERVER_PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PGID" 2>/dev/null || true
    SERVER_PGID=
  fi
}

prepare_profile() {
  PROFILE=$E2E_DIR/profile
  EXTENSIONS=$E2E_DIR/extensions
  WORKSPACE=$E2E_DIR/workspace
  rm -rf "$PROFILE" "$EXTENSIONS" "$WORKSPACE" "$E2E_DIR/shots"
  mkdir -p "$PROFILE/User" "$EXTENSIONS" "$E2E_DIR/shots"
  cp -r "$HERE/workspace" "$WORKSPACE"
  # The Python extension is not installed: tracecot.interpreter says which Python runs the server.
  # The model is off: this test is about the editor, and the model would compete for the CPU.
  cat > "$PROFILE/User/settings.json" <<EOF
{
  "tracecot.interpreter": "$PYTHON",
  "tracecot.model.enabled": false,
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.commandCenter.enabled": false,
  "window.restoreWindows": "none",
  "editor.hover.delay": 300,
  "editor.minimap.enabled": false,
  "files.autoSave": "off",
  "git.enabled": false,
  "git.openRepositoryInParentFolders": "never"
}
EOF
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' > "$E2E_DIR/code-server.yaml"
  CS_ARGS=(--config "$E2E_DIR/code-server.yaml" --user-data-dir "$PROFILE" --extensions-dir "$EXTENSIONS")
  log "installing $VSIX into a fresh profile"
  "$CODE_SERVER" "${CS_ARGS[@]}" --install-extension "$VSIX" --force
  local listed
  listed=$("$CODE_SERVER" "${CS_ARGS[@]}" --list-extensions --show-versions)
  echo "$listed"
  echo "$listed" | grep -qx 'tracecot.tracecot@[0-9.]*' || { echo "tracecot is not installed" >&2; return 1; }
}

start_server() {
  PORT=$(free_port)
  log "starting code-server on 127.0.0.1:$PORT"
  rm -f "$E2E_DIR/code-server.pid"
  # A session of its own, so that stop_server ends it and everything it started together.
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$E2E_DIR/code-server.pid" \
    "$CODE_SERVER" "${CS_ARGS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    --disable-getting-started-override --disable-proxy --ignore-last-opened \
    > "$E2E_DIR/code-server.log" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do [ -s "$E2E_DIR/code-server.pid" ] && break; sleep 0.1; done
  SERVER_PGID=$(cat "$E2E_DIR/code-server.pid")
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PGID" 2>/dev/null || break
    sleep 0.2
  done
  echo "code-server did not answer on 127.0.0.1:$PORT" >&2
  tail -n 40 "$E2E_DIR/code-server.log" >&2
  return 1
}

show_logs() {
  echo "--- code-server.log (tail)"
  tail -n 30 "$E2E_DIR/code-server.log" 2>/dev/null || true
  local f
  # The extension's output channel, as the workbench logged it.
  while IFS= read -r f; do
    echo "--- $f (tail)"
    tail -n 60 "$f"
  done < <(find "$PROFILE/logs" -name '*tracecot*.log' 2>/dev/null)
}

run_test() {
  prepare_profile
  trap stop_server EXIT
  start_server
  log "driving the workbench (screenshots in $E2E_DIR/shots)"
  local rc=0
  # A bound on the whole drive, far above its usual minute: every wait in it has its own limit.
  E2E_URL="http://127.0.0.1:$PORT" E2E_WORKSPACE="$WORKSPACE" E2E_SHOTS="$E2E_DIR/shots" \
    E2E_BAD_PYTHON="$CLIENT/test/fixtures/python_without_tracecot" \
    CHROMIUM="$CHROMIUM" NODE_PATH="$TOOLS/node_modules" \
    timeout -k 15 1200 node "$HERE/drive.js" 2>&1 | tee "$E2E_DIR/drive.log" || rc=$?
  if [ "$rc" -ne 0 ]; then
    show_logs
  fi
  stop_server
  return "$rc"
}

summary_line() {
  # drive.js's closing line ("e2e: N passed, N failed"), repeated last for whoever reads the end.
  grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' "$E2E_DIR/drive.log" 2>/dev/null | tail -n 1 ||
    echo "e2e: 0 passed, 1 failed"
}

main() {
  local started=$SECONDS
  [ -x "$PYTHON" ] || { echo "no $PYTHON: run 'make setup' first" >&2; exit 2; }
  case "${1:-all}" in
    install)
      install_apt
      install_npm ;;
    all)
      install_apt
      install_npm
      build_vsix
      local rc=0
      run_test || rc=$?
      log "finished in $((SECONDS - started)) s; screenshots in $E2E_DIR/shots"
      summary_line
      exit "$rc" ;;
    *) echo "usage: $0 [all|install]" >&2; exit 2 ;;
  esac
}

main "$@"
