# The pin-update gateway (and, with another command, the device simulator): Node 20 on Debian bookworm.
# openssl: the gateway makes its self-signed broker certificate with the openssl CLI on first start.
# Build: docker build -t pin-update-gateway .   Run: docker compose up (docker-compose.yml, docs/drill.md)

# better-sqlite3 is a native module: build tools in a throw-away stage, in case no prebuilt binary fits.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# runtime dependencies only (tsx is one: the gateway and the simulator run from TypeScript sources)
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The data dir is a volume owned by the unprivileged "node" user (a new named volume copies this ownership).
RUN mkdir -p /data /sim && chown node:node /data /sim
USER node
ENV NODE_ENV=production \
    PINGW_DATA_DIR=/data \
    PINGW_HTTP_HOST=0.0.0.0 \
    PINGW_HTTP_PORT=8080 \
    PINGW_MQTTS_HOST=0.0.0.0 \
    PINGW_MQTTS_PORT=8883 \
    PINGW_MQTT_PORT=off
VOLUME ["/data"]
EXPOSE 8080 8883
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=12 \
  CMD node -e "fetch('http://127.0.0.1:8080/api/openapi.json').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# What `npm start` runs, without npm and the tsx CLI in between: both forward only SIGINT/SIGTERM, and SIGHUP
# (docker kill -s HUP: reload the TLS key) must reach the gateway's own process. Run with an init (compose: init: true).
CMD ["node", "--import", "tsx", "gateway/main.ts"]
