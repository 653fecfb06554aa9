# aidcases production image: gunicorn serving Django; the same image runs the
# Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Unprivileged user that runs every process in the container.
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

# Dependencies first, so code changes do not invalidate this layer.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root (read-only for the app user).
COPY . .

# Static files are collected at build time. The settings must import, so the
# required variables get throw-away values on this RUN line only; they are not
# baked into the image environment. Media (uploads, export files) and var/
# (beat schedule) are the only writable places, mounted as volumes at run time.
RUN SECRET_KEY=build-only \
    DATABASE_URL=postgres://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 \
    DEBUG=false \
    ALLOWED_HOSTS=localhost \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktbm90LWZvci1ydW50aW1lISE= \
    ID_HASH_KEY=build-only \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/media /app/var \
 && chown app:app /app/media /app/var

USER app

EXPOSE 8000

# Port, workers, timeout and a query-string-free access log: gunicorn.conf.py.
CMD ["gunicorn", "aidcases.wsgi:application"]
