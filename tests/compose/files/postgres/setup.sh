# pgvector/pgvector:pg16 stand-in: Debian trixie's PostgreSQL 17 with pgvector.
. /tmp/standin/common.sh
# The entrypoint makes the cluster in PGDATA; Debian's own "main" cluster is not wanted.
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/aion-standin.conf
apt_install postgresql-17 postgresql-17-pgvector

install -d -o postgres -g postgres -m 3777 /var/run/postgresql
install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
install -d /docker-entrypoint-initdb.d
install -m 755 /tmp/standin/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
finish
