# node:20-slim stand-in: Debian trixie's nodejs (20.19) and npm (9.2).
. /tmp/standin/common.sh
apt_install nodejs npm ca-certificates
# The official image has a `node` user with uid/gid 1000.
groupadd --gid 1000 node
useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# The host's CA bundle for npm and node (NODE_EXTRA_CA_CERTS points here), as in the python one.
install -m 644 /tmp/standin/host-ca.crt /etc/ssl/aion-host-ca.crt
install -m 755 /tmp/standin/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
finish
