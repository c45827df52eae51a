# python:3.11-slim stand-in: Debian bookworm's python3 (3.11) with pip and venv.
. /tmp/standin/common.sh
apt_install python3 python3-pip python3-venv ca-certificates passwd

# pip installs into the system Python, as in the official image (no PEP 668 refusal).
rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
# The official image has python, python3, pip and pip3 in /usr/local/bin.
for name in python python3; do ln -sf /usr/bin/python3 "/usr/local/bin/$name"; done
for name in pip pip3; do ln -sf /usr/bin/pip3 "/usr/local/bin/$name"; done

# The host's CA bundle (which may include an HTTPS-intercepting CA): PIP_CERT, SSL_CERT_FILE and
# REQUESTS_CA_BUNDLE point here. A file of its own, so update-ca-certificates never rewrites it.
install -m 644 /tmp/standin/host-ca.crt /etc/ssl/aion-host-ca.crt
finish
