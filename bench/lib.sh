# Helpers the bench scripts share (sourced, from the repository's root).

# ensure_wrk: installs wrk (Debian package) if it is missing.
ensure_wrk() {
  command -v wrk >/dev/null && return
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq wrk >/dev/null
}

# listening_port FILE: waits until the server whose output goes to FILE logs its URL, and prints its port.
listening_port() {
  until grep -q "listening on" "$1"; do sleep 0.1; done
  sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$1"
}
