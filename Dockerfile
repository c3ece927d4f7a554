# Lumen: `lumen serve` in a slim, non-root image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
# The product only: the dev workspace (src/devslack, the `dev` extra) stays out of the image.
COPY src/lumen ./src/lumen
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    LUMEN_PORT=3000 \
    LUMEN_CONFIG=/etc/lumen/lumen.yml \
    LUMEN_DATABASE_URL=sqlite+aiosqlite:////var/lib/lumen/lumen.db \
    LUMEN_LOG_FORMAT=json
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home /var/lib/lumen --create-home lumen \
    && mkdir -p /etc/lumen && chown lumen /etc/lumen
USER lumen
WORKDIR /var/lib/lumen
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"LUMEN_PORT\", \"3000\")}/healthz', timeout=2)" || exit 1
CMD ["lumen", "serve"]
