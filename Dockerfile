# Production image (design D2): Node 24 LTS; the web app is built at image build time.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx vite build --config dashboards/web/vite.config.ts

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
EXPOSE 3000 1883 8083
CMD ["sh", "-c", "exec node $(cat service/node-flags) --import tsx service/main.ts"]
