# redis:7-alpine stand-in: Debian bookworm's redis-server 7.0 (redis-tools brings redis-cli).
. /tmp/standin/common.sh
apt_install redis-server redis-tools
install -d -o redis -g redis /data
install -m 755 /tmp/standin/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
finish
