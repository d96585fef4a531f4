# Vigil image: one image, every role (`docker run vigil collector|indexer|alerter|api|all`).
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles its native addon when no prebuilt binary matches; Vigil builds its own
# (file-backed head chunks).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY bin bin
COPY cmd cmd
COPY config config
COPY model model
COPY promql promql
COPY storage storage
COPY util util
COPY collector collector
COPY alerter alerter
COPY api api
COPY rules rules
COPY dashboards dashboards
COPY test test
COPY bench bench
COPY vitest.config.ts ./
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production VIGIL_LISTEN=0.0.0.0:9580 VIGIL_DATA_DIR=/var/lib/vigil
WORKDIR /opt/vigil
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
# The head-chunk mapping addon, looked up beside its source (storage/metrics/tsdb/chunk/mapped-arena.ts).
COPY --from=build /src/storage/metrics/tsdb/chunk/native/build/Release/mapped_file.node storage/metrics/tsdb/chunk/native/build/Release/
COPY --from=build /src/bin bin
COPY --from=build /src/dashboards dashboards
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
USER node
EXPOSE 9580
VOLUME ["/var/lib/vigil"]
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9580/-/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/vigil.js"]
CMD ["all"]
