# The Rasa NLU server (Python 3.10, its own dependency set), trained at build time.
# Build from the repository root:  docker build -f docker/rasa.Dockerfile -t xinyi-rasa .
FROM python:3.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 RASA_TELEMETRY_ENABLED=false
WORKDIR /app
COPY nlu/rasa/requirements-py310.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -r /tmp/requirements.lock
COPY nlu/rasa ./nlu/rasa
COPY nlu/jieba ./nlu/jieba
# config.yml names the jieba dictionary folder relative to the repository root (here /app).
RUN rasa train nlu --config nlu/rasa/config.yml --nlu nlu/rasa/data --domain nlu/rasa/domain.yml \
      --out /app/models --fixed-model-name xinyi-nlu \
 && useradd --system --uid 10002 rasa && chown -R rasa /app
USER rasa
EXPOSE 5005
HEALTHCHECK --interval=15s --timeout=3s --retries=5 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/status', timeout=2)" || exit 1
CMD ["rasa", "run", "--enable-api", "-i", "0.0.0.0", "-p", "5005", "-m", "/app/models/xinyi-nlu.tar.gz"]
