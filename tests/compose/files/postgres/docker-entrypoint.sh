#!/bin/bash
# Behaves like the official postgres image's entrypoint, for what AION's compose file uses:
# - POSTGRES_USER (default postgres), POSTGRES_PASSWORD, POSTGRES_DB (default: the user), each
#   also as NAME_FILE (read from that file, as upstream),
#   PGDATA (default /var/lib/postgresql/data), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD
#   (default scram-sha-256: password auth for every TCP connection not from localhost);
# - an empty PGDATA gets a UTF-8 cluster (SQL_ASCII would break SQLAlchemy) listening on all
#   addresses, the user and database, and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz, once;
# - `postgres ...` (or options alone, `-c ...`) runs the server as the postgres user;
#   any other command is run as given.
set -Eeuo pipefail

if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi
for arg in "$@"; do
    case "$arg" in
        -'?' | --help | --describe-config | -V | --version) exec "$@" ;;
    esac
done

# NAME_FILE forms (compose hands the password over as a file): read while still root.
for name in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB; do
    file_name="${name}_FILE"
    if [ -n "${!file_name:-}" ]; then
        if [ -n "${!name:-}" ]; then
            echo "error: both $name and $file_name are set (but are exclusive)" >&2
            exit 1
        fi
        export "$name=$(< "${!file_name}")"
        unset "$file_name"
    fi
done

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ "$(id -u)" = 0 ]; then
    # As root: make the data and socket folders the postgres user's, then run as that user.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    chown postgres:postgres /var/run/postgresql
    chmod 3777 /var/run/postgresql
    HOME=$(getent passwd postgres | cut -d: -f6) exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

run_sql() {
    psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" "$@"
}

initialise() {
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        echo "error: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        echo "       (set it, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections)" >&2
        exit 1
    fi
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, as upstream
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" \
        --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
        --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

    # A private server (no TCP) for the setup, as upstream does.
    pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
    if [ "$POSTGRES_DB" != postgres ]; then
        run_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                echo "running $f"
                if [ -x "$f" ]; then "$f"; else . "$f"; fi
                ;;
            *.sql)
                echo "running $f"
                run_sql --dbname "$POSTGRES_DB" -f "$f"
                ;;
            *.sql.gz)
                echo "running $f"
                gunzip -c "$f" | run_sql --dbname "$POSTGRES_DB"
                ;;
            *) ;;
        esac
    done
    pg_ctl --pgdata="$PGDATA" --wait --silent -m fast stop
    echo "PostgreSQL init process complete; ready for start up."
}

shopt -s nullglob
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initialise
fi
exec "$@"
