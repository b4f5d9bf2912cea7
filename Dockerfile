# One image for both processes:
#   web:    docker run -p 8000:8000 --env-file .env flowdesk
#   worker: docker run --env-file .env flowdesk flask worker
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && mkdir -p static/vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLASK_APP=wsgi.py FLOWDESK_ENV=production
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 flowdesk
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt
COPY . .
COPY --from=assets /src/static/vendor static/vendor
RUN pip install --no-cache-dir --no-deps . && mkdir -p instance && chown flowdesk instance
USER flowdesk
EXPOSE 8000
# Production needs SECRET_KEY and FLOWDESK_SECRETS_KEYS (see .env.example) from the environment.
# More than one worker needs REDIS_URL (rate-limit counters shared between processes).
ENV WEB_CONCURRENCY=1
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY} --access-logfile - wsgi:app"]
