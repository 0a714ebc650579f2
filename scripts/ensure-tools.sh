#!/usr/bin/env bash
# Tools from Debian's packages, installed when missing and this user may; otherwise says what to run.
# Usage: ensure-tools.sh <command>[:<package>] ...   e.g.  ensure-tools.sh tmux   or   ensure-tools.sh wrk nginx:nginx-light
set -u
missing=()
for tool in "$@"; do
  command="${tool%%:*}"
  package="${tool#*:}"
  command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "missing ${missing[*]}: install with  sudo apt-get install -y ${missing[*]}" >&2
exit 1
