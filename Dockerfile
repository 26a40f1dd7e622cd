# syntax=docker/dockerfile:1
# TinyV Server: the gRPC reward service, rules only unless TINYV_LLM_URL is set.
#   docker build -t tinyv-server .
#   docker run --rm -p 50051:50051 -p 8080:8080 tinyv-server
# Settings are TINYV_* variables (see the README's configuration table) or flags after the image name.

# Build: the README's setup command (npm ci builds dist/ through "prepare"), then drop dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY proto ./proto
COPY models ./models
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Run: node, the built service and its production dependencies, as the unprivileged `node` user (uid 1000).
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TINYV_PORT=50051 \
    TINYV_HTTP_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/models ./models
COPY --from=build /app/proto ./proto
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 50051 8080
# The standard gRPC health protocol on the gRPC port: SERVING, or exit 1.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "bin/tinyv.js", "serve", "--host", "0.0.0.0"]
