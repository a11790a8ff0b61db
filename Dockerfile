# Production image: python:3.11-slim, dependencies from the lock, non-root, several uvicorn workers.
# Migrations are a separate release step, run with the same image:
#   docker run --rm --env-file prod.env portal alembic upgrade head
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    WEB_CONCURRENCY=4

# Libraries WeasyPrint loads at run time (decision letters and vouchers as PDF) and fonts with ÅÄÖ and €.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/portal
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN useradd --system --create-home --uid 10001 portal
COPY --chown=portal:portal alembic.ini babel.cfg ./
COPY --chown=portal:portal app ./app
COPY --chown=portal:portal migrations ./migrations
COPY --chown=portal:portal templates ./templates
COPY --chown=portal:portal static ./static
COPY --chown=portal:portal locale ./locale
# Attachment contents (FILES_DIR): mount a volume or shared storage here in production.
RUN mkdir -p /srv/portal/var/files && chown -R portal:portal /srv/portal/var
USER portal

EXPOSE 8000
# Settings come from the environment (see README): DATABASE_URL, SECRET_KEY, ENCRYPTION_KEYS, ...
# The app refuses to start with unsafe production values.
CMD ["sh", "-c", "exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --proxy-headers --forwarded-allow-ips='*' --no-access-log"]
