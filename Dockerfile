# syntax=docker/dockerfile:1
# Lyceum's production image. One image runs every process of the Procfile; the command picks
# which (compose.yaml runs web ×2, worker, clock and the one-shot migrate from it):
#   web      gunicorn -c gunicorn.conf.py wsgi:app      (the default command)
#   worker   python worker.py
#   clock    python worker.py --cron
#   release  flask --app wsgi db upgrade
# The production-shape test (tests/deployment/) runs these same commands on the CI machine.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv and the pinned front-end files -----------------------------------
FROM ${PYTHON_IMAGE} AS build
# npm is needed only here, to fetch htmx and Pico (checked against package-lock.json); no build
# tool reaches the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# requirements.lock: every runtime distribution pinned with its hashes (`make lock` writes it).
COPY requirements.lock /src/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --requirement /src/requirements.lock
COPY package.json package-lock.json /src/
COPY scripts/fetch_vendor.py /src/scripts/fetch_vendor.py
RUN cd /src && python scripts/fetch_vendor.py

# --- the image that runs ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LYCEUM_ENV=production \
    FLASK_APP=wsgi \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin lyceum
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . /app
COPY --from=build /src/app/static/vendor /app/app/static/vendor
# The only places the processes write: uploads (a volume shared by web and workers, unless
# MEDIA_STORAGE is s3://…), the instance folder, and gunicorn's multiprocess metrics.
RUN mkdir -p /app/instance /srv/lyceum/media /var/lib/lyceum/metrics \
 && chown -R lyceum:lyceum /app/instance /srv/lyceum /var/lib/lyceum
USER lyceum
EXPOSE 8000
# 200 while the web process can reach PostgreSQL and Redis (also when it reports "degraded":
# no worker seen lately is the worker's problem, not a reason to restart the web).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
