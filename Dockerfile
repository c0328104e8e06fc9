# One image for every Tessera process; compose picks the process with `tessera serve <name>`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY pyproject.toml ./
COPY shared/ shared/
COPY gateway-proxy/ gateway-proxy/
COPY user-service/ user-service/
COPY auth-service/ auth-service/
COPY registry-service/ registry-service/
COPY events-service/ events-service/
COPY launcher/ launcher/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 --user-group --home /app tessera \
    && mkdir -p /app/var && chown tessera /app/var
# Numeric, so a cluster can check it is not root before it starts the container.
USER 10001
EXPOSE 8000
ENTRYPOINT ["tessera", "serve"]
