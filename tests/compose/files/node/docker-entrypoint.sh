#!/bin/sh
# Like the official node image: an option, or anything that is not a command, is run by node.
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ] || ! command -v "$1" >/dev/null 2>&1 \
    || { [ -f "$1" ] && [ ! -x "$1" ]; }; then
    set -- node "$@"
fi
exec "$@"
