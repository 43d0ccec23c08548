# One image for every role: web (`mailroom run`, the default), worker (`mailroom worker`) and
# migrations (`mailroom migrate`). See compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 mailroom \
    && mkdir /data && chown mailroom:mailroom /data

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them. The install is
# editable: the code runs from /app, next to migrations/, templates/ and static/ (webapp/cli.py and
# webapp/app.py find those relative to the package).
COPY pyproject.toml ./
RUN mkdir webapp && touch webapp/__init__.py && pip install -e .

COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY translations ./translations
COPY webapp ./webapp

USER mailroom

# The app writes only to MAILROOM_DATA_DIR (the generated secret key when MAILROOM_SECRET_KEY is
# unset, embedded servers for `mailroom dev`); in production DATABASE_URL and REDIS_URL are set.
ENV MAILROOM_HOST=0.0.0.0 \
    MAILROOM_PORT=8000 \
    MAILROOM_DATA_DIR=/data

EXPOSE 8000

CMD ["mailroom", "run"]
