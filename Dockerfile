# clerk-sync: one image, two processes (`api` and `worker`); see docker-compose.yml. Node 24 LTS (issue 16).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sandbox/package.json ./packages/sandbox/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY packages/sandbox ./packages/sandbox
COPY src ./src
RUN npm run build

# The sandbox workspace and the dev-only packages (local mode's) stay out of the product image.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures
USER node
EXPOSE 3000
ENTRYPOINT ["node", "dist/bin.js"]
CMD ["api"]
