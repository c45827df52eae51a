# Sourced first by every stand-in's setup.sh, inside a container of a fresh debootstrap rootfs.
# MIRROR and SECURITY_MIRROR come from the build (`docker create -e`).
set -eu
export DEBIAN_FRONTEND=noninteractive
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")

# apt sources as in Debian's own images: the release, its updates and its security fixes, so a
# Dockerfile built FROM the stand-in can `apt-get update && apt-get install` as usual.
rm -f /etc/apt/sources.list
cat > /etc/apt/sources.list.d/debian.sources <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# A container has no init: packages must not try to start their services.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

apt-get update
apt-get -y dist-upgrade

apt_install() {
    apt-get install -y --no-install-recommends "$@"
}

# Last step of every setup.sh: no package lists, caches or build files left in the image.
finish() {
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /tmp/standin
}
