# Hideki: one image, offline by default. Build: docker build -t hideki .   Run: docker run -p 3978:3978 -v hideki-data:/data hideki
# The same image runs the Chroma server of a scale-out setup (same chromadb as the bot's client):
#   chroma run --path /data/chroma --host 0.0.0.0 --port 8000   (docker-compose.yml, profile "scale")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HIDEKI_DATA_DIR=/data \
    PORT=3978

WORKDIR /opt/hideki

# The Sudachi dictionary and the tiktoken encodings come inside PyPI packages: nothing downloads at run time.
COPY pyproject.toml README.md ./
COPY app.py ./
COPY hideki ./hideki
COPY bot ./bot
COPY channels ./channels
COPY prompts ./prompts
COPY knowledge ./knowledge
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /data hideki \
 && mkdir -p /data && chown hideki /data

USER 10001
VOLUME ["/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=4)"]
CMD ["hideki", "serve"]
