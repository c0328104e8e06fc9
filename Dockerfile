# One image for every Tessera process; compose picks the process with `tessera serve <name>`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app/shared/src:/app/gateway/src:/app/user-service/src:/app/auth-service/src:/app/registry-service/src:/app/events-service/src:/app/launcher/src
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY shared/ shared/
COPY gateway/ gateway/
COPY user-service/ user-service/
COPY auth-service/ auth-service/
COPY registry-service/ registry-service/
COPY events-service/ events-service/
COPY launcher/ launcher/
RUN useradd --system --home /app tessera && mkdir -p /app/var && chown tessera /app/var
USER tessera
EXPOSE 8000
ENTRYPOINT ["python", "-m", "tessera_launcher", "serve"]
