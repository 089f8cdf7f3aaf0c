# syntax=docker/dockerfile:1
# One image for every Tradeloom service. Build one service:
#   docker build --build-arg SERVICE=market-data -t tradeloom/market-data:dev .
# SERVICE=all installs every service (used by the compose `bootstrap` one-shot that creates the
# JetStream streams and runs every service's migrations).
# Pin PYTHON_IMAGE by digest in your release pipeline (python:3.11-slim-bookworm@sha256:...).
# The gateway serves the web dashboard: a Node stage builds it from the npm lock (no bundle in git).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS dashboard
WORKDIR /src/dashboard
COPY dashboard/ /src/dashboard/
# npm ci installs exactly the lock file; the build type-checks, bundles and precompresses (.br/.gz).
RUN npm ci --no-audit --no-fund --loglevel=error && npm run build

FROM ${PYTHON_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Third-party dependencies first (this layer is shared by every service image): locked with
# hashes, wheels only, so a changed or missing hash or an sdist that needs a compiler fails here.
COPY requirements/runtime.txt /tmp/requirements/runtime.txt
RUN pip install --require-hashes --only-binary=:all: -r /tmp/requirements/runtime.txt
COPY libs/ /src/libs/
COPY services/ /src/services/
ARG SERVICE
# Install the shared libs and the selected service(s) without resolving anything new: every
# dependency must already be in requirements/runtime.txt (pip check proves it).
# targets is a whitespace-separated list of local paths: unquoted on purpose, nothing to pin.
# hadolint ignore=DL3013,SC2086
RUN set -eu; \
    case "${SERVICE:-}" in \
      "") echo "build with --build-arg SERVICE=<service name>|all" >&2; exit 2 ;; \
      all) targets="$(find /src/services -mindepth 2 -maxdepth 2 -name pyproject.toml -printf '%h\n' | sort)" ;; \
      *) test -f "/src/services/${SERVICE}/pyproject.toml" \
           || { echo "unknown SERVICE '${SERVICE}': no services/${SERVICE}/pyproject.toml" >&2; exit 2; }; \
         targets="/src/services/${SERVICE}" ;; \
    esac; \
    pip install --no-deps --no-build-isolation /src/libs/shared /src/libs/quant ${targets}; \
    pip check; \
    for t in ${targets}; do basename "$t"; done > /opt/venv/tradeloom-services

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="tradeloom-${SERVICE}" \
      org.opencontainers.image.description="Tradeloom service ${SERVICE}"
# The sandbox-executor runs user code under bubblewrap and drops to per-run uids with setpriv.
RUN if [ "${SERVICE}" = "sandbox-executor" ] || [ "${SERVICE}" = "all" ]; then \
      apt-get update && apt-get install -y --no-install-recommends bubblewrap util-linux \
      && rm -rf /var/lib/apt/lists/*; \
    fi
RUN groupadd --system --gid 10001 tradeloom \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin tradeloom
COPY --from=build /opt/venv /opt/venv
COPY --chmod=0555 infra/docker/tl-service /usr/local/bin/tl-service
# ~300 KB in every image (one Dockerfile for all); only gateway-auth reads the setting and serves it.
COPY --from=dashboard /src/dashboard/dist /opt/tradeloom/dashboard
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TL_SERVICE=${SERVICE} \
    TL_GATEWAY_AUTH_DASHBOARD_DIR=/opt/tradeloom/dashboard
# The process writes nothing outside /tmp (mount a tmpfs/emptyDir there with a read-only root).
WORKDIR /tmp
USER 10001:10001
# 8081: /healthz, /readyz, /metrics for every service; 8080: the gateway's public REST port.
EXPOSE 8081
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8081/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["tl-service"]
CMD ["run"]
