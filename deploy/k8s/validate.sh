#!/usr/bin/env bash
# Renders each overlay with `kubectl kustomize` and validates every object against the Kubernetes
# API schemas, offline (validate/validate.mjs, npm kubernetes-models); then shows the check fails on
# a broken object. Run by ctest (label ops). Needs kubectl (the machine's; if missing, Debian's
# kubernetes-client is installed, whose kustomize is older than these files may need) and Node.js.
set -euo pipefail
cd "$(dirname "$0")"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
install() { DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "$@" >/dev/null; }
command -v kubectl >/dev/null || install kubernetes-client
command -v node >/dev/null || install nodejs npm
[ -d validate/node_modules ] || (cd validate && npm ci --no-audit --no-fund --loglevel=error)

for overlay in overlays/*/; do
  echo "== ${overlay}"
  kubectl kustomize "$overlay" | node validate/validate.mjs
done
# The check itself can fail: a port that is not a number.
if kubectl kustomize overlays/production | sed 's/containerPort: 8080/containerPort: "http"/' |
  node validate/validate.mjs 2>/dev/null; then
  echo "a broken Deployment passed validation" >&2
  exit 1
fi
echo "a broken Deployment is refused: ok"
