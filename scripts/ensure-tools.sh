#!/usr/bin/env bash
# Tools the tests drive from Debian's packages: tmux (the monitor dashboard is tested in a real terminal).
# Installs them when missing and this user may; otherwise says what to run.
set -u
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages) for the tests"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "missing ${missing[*]}: install with  sudo apt-get install -y ${missing[*]}" >&2
exit 1
