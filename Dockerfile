# syntax=docker/dockerfile:1
# Common Ground's production image (docs/deploy.md): multi-stage, non-root, static files
# collected at build. The base image is pinned to an exact Python release on Debian
# bookworm (the Python the test suite runs on); pin its digest too with
#   docker build --build-arg PYTHON_IMAGE=python:3.11.7-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# --- build: install the distribution into a virtualenv, collect static files --------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /build
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib
# Hashed, compressed static files (whitenoise's manifest storage of the production
# settings). The secret key and database here exist only for this step.
RUN DJANGO_SETTINGS_MODULE=commonground.site.settings_production \
    DJANGO_SECRET_KEY=collectstatic-at-build-time-only-never-used-to-serve \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    DJANGO_STATIC_ROOT=/opt/commonground/static \
    COMMONGROUND_HOME=/tmp/build \
    /opt/venv/bin/commonground manage collectstatic --no-input

# --- runtime: the virtualenv, the static files, pg_dump, an unprivileged user -------
FROM ${PYTHON_IMAGE} AS runtime
# postgresql-client: pg_dump and pg_restore for `commonground manage backup/restore`
# (bookworm's 15, the same major version as the PostgreSQL in compose.yaml).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 commonground \
    && useradd --system --uid 10001 --gid commonground --no-create-home \
       --home-dir /srv/commonground --shell /usr/sbin/nologin commonground \
    && mkdir -p /srv/commonground/media /srv/commonground/backups \
    && chown -R commonground:commonground /srv/commonground
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/commonground/static /opt/commonground/static
COPY deploy/gunicorn.conf.py deploy/healthcheck.py /etc/commonground/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=commonground.site.settings_production \
    COMMONGROUND_HOME=/srv/commonground \
    DJANGO_STATIC_ROOT=/opt/commonground/static \
    DJANGO_MEDIA_ROOT=/srv/commonground/media \
    GUNICORN_BIND=0.0.0.0:8000
WORKDIR /srv/commonground
USER 10001:10001
EXPOSE 8000
# Liveness only (no database, no Redis): compose.yaml checks readiness (/readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/etc/commonground/healthcheck.py", "/healthz"]
CMD ["gunicorn", "--config", "/etc/commonground/gunicorn.conf.py", "commonground.site.wsgi:application"]
