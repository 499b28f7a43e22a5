"""The Starlette web app: webhooks, health checks, admin API."""
