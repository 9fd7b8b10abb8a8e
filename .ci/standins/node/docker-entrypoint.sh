#!/bin/sh
# Same behaviour as the upstream node image's entrypoint: run the arguments with
# node when the first one is an option or not a command.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
