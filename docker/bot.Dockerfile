# The bot: web chat, WeChat/Telegram webhooks, staff console, pager (stateless; state in Redis).
# Build from the repository root:  docker build -f docker/bot.Dockerfile -t xinyi-bot .
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY bot ./bot
COPY core ./core
COPY nlu ./nlu
COPY flows ./flows
COPY escalation ./escalation
COPY config ./config
RUN pip install --no-cache-dir --no-deps -e . && useradd --system --uid 10001 xinyi && mkdir -p /app/var && chown xinyi /app/var
USER xinyi
ENV XINYI_HOST=0.0.0.0 XINYI_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["xinyi", "serve"]
