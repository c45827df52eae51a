#!/bin/sh
# Behaves like the official redis image's entrypoint:
# - an option or a *.conf file as first argument means `redis-server <them>`;
# - as root, /data (the working directory) is handed to the redis user and the server re-run as it;
# - with no config file that sets protected-mode, `--protected-mode no` is added, since the
#   server is reached from other containers (protection there is --requirepass, not loopback).
set -e

case "$1" in
    -* | *.conf) set -- redis-server "$@" ;;
esac

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis:redis '{}' +
    HOME=$(getent passwd redis | cut -d: -f6) exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = redis-server ]; then
    shift
    if [ -f "${1:-}" ]; then
        config=$1
        shift
        if grep -q '^[[:space:]]*protected-mode' "$config"; then
            set -- redis-server "$config" "$@"
        else
            set -- redis-server "$config" --protected-mode no "$@"
        fi
    else
        set -- redis-server --protected-mode no "$@"
    fi
    umask 0077
fi

exec "$@"
