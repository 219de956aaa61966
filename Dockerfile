# syntax=docker/dockerfile:1
#
# The notifier image: one image for every mode (api, consume, schedule,
# db upgrade); docker-compose.yml picks the mode with the command.
#
#   docker build -t notifier:local .
#   docker run --rm notifier:local --help

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: wheels of the service, its plugins and all their dependencies
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . .

# The projects to install, listed explicitly (no glob): the service and its
# email channel always; the stub channels when their directories are in the
# build context. A new plugin under plugins/ is added to this list.
RUN set -eu; \
    set -- . plugins/email_smtp; \
    for optional in plugins/sms_stub plugins/push_stub; do \
        if [ -f "$optional/setup.py" ]; then set -- "$@" "$optional"; fi; \
    done; \
    pip wheel --wheel-dir /wheels "$@"

# --- runtime: the installed wheels, templates and migrations, no build tools
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NOTIFIER_ENVIRONMENT=production \
    NOTIFIER_API_HOST=0.0.0.0 \
    NOTIFIER_API_PORT=8000 \
    NOTIFIER_INSTANCE_DIR=/app/instance \
    NOTIFIER_TEMPLATES_DIR=/app/templates

# The non-root user `notifier`, with fixed ids so that volumes and
# orchestrators (runAsNonRoot) can rely on them.
ARG NOTIFIER_UID=10001
RUN groupadd --system --gid "${NOTIFIER_UID}" notifier \
    && useradd --system --uid "${NOTIFIER_UID}" --gid notifier \
        --home-dir /app --no-create-home --shell /usr/sbin/nologin notifier

# Install every wheel the builder made, offline; the wheels are mounted,
# not copied, so they take no space in the final image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl

WORKDIR /app
COPY --chown=root:root templates/ /app/templates/
COPY --chown=root:root migrations/ /app/migrations/
RUN mkdir -p /app/instance && chown notifier:notifier /app/instance

USER ${NOTIFIER_UID}:${NOTIFIER_UID}

# 8000: the HTTP API; 8001: /ws (NOTIFIER_WEBSOCKET_PORT, docs/websocket.md).
EXPOSE 8000 8001

# Liveness of the HTTP API (the default command). The consumer and scheduler
# services override it in docker-compose.yml: they serve no HTTP.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["notifier"]
CMD ["run", "api", "--workers", "4"]
