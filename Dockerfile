# One image for every Tessera process: `tessera serve <name>` runs one (compose and the
# Kubernetes manifests give the name as the command).
#
#   docker build -t tessera .
#
# Offline, as CI builds it (docs/deploy.md): the wheels fetched beforehand into wheels/, a base
# image of your own with Python 3.11 or newer, and pip told not to look elsewhere:
#
#   pip download -r requirements.txt -d wheels/      # with the base image's Python version
#   podman build --format docker --build-arg BASE_IMAGE=localhost/debian-python \
#     --build-arg PIP_NO_INDEX=1 -t tessera .
#
# (Podman's own format, OCI, has no HEALTHCHECK: `--format docker` keeps it.)
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
# Empty: pip reads the package index and wheels/ as usual; 1: wheels/ alone.
ARG PIP_NO_INDEX=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=/wheels
RUN python3 -m venv /opt/tessera
# The dependencies first, so a change to the code reuses this layer.
COPY wheels/ /wheels/
COPY requirements.txt /src/
RUN /opt/tessera/bin/pip install --only-binary=:all: -r /src/requirements.txt
COPY pyproject.toml /src/
COPY shared/ /src/shared/
COPY gateway-proxy/ /src/gateway-proxy/
COPY user-service/ /src/user-service/
COPY auth-service/ /src/auth-service/
COPY registry-service/ /src/registry-service/
COPY events-service/ /src/events-service/
COPY launcher/ /src/launcher/
# pip has done its work: the image never installs anything more (15 MB less).
RUN /opt/tessera/bin/pip install --no-deps --no-build-isolation /src \
    && /opt/tessera/bin/pip uninstall --yes --quiet pip

FROM ${BASE_IMAGE}
ENV PATH=/opt/tessera/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /opt/tessera /opt/tessera
# var/media exists here so that a volume mounted on it starts out the service's own.
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home tessera \
    && mkdir -p /app/var/media && chown -R tessera:tessera /app/var
WORKDIR /app
# Numeric, so a cluster can check it is not root before it starts the container.
USER 10001
EXPOSE 8000
# Every process answers /health/ready on port 8000 (the gateway for the whole platform).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["tessera", "healthcheck"]
ENTRYPOINT ["tessera", "serve"]
