FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLOWBOT_DATA_DIR=/data HOST=0.0.0.0 PORT=8000
WORKDIR /app

COPY pyproject.toml README.md ./
COPY engine ./engine
COPY plugins ./plugins
RUN pip install --no-cache-dir .

COPY flows ./flows
COPY templates ./templates

RUN useradd --system --create-home flowbot && mkdir -p /data && chown flowbot /data
USER flowbot
EXPOSE 8000
CMD ["flowbot", "serve"]
