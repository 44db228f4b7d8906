# The in-region job image (docs/in-region.md §3): Deno's official image with this checkout and
# every module it loads cached at build time, held to deno.lock (`deno task cache:image`); the
# job runs with --cached-only, so it downloads no code at run time.
#   docker build -t ACCOUNT.dkr.ecr.REGION.amazonaws.com/permafrost:VERSION .
FROM denoland/deno:2.9.6
WORKDIR /app
COPY . .
RUN deno task cache:image
USER 65534:65534
ENV HOME=/tmp PERMAFROST_CACHE_DIR=/tmp/permafrost-cache PERMAFROST_STATE_DIR=/tmp/permafrost-state
ENTRYPOINT ["deno", "run", "--allow-all", "--frozen", "--cached-only", "--quiet", \
  "--v8-flags=--max-semi-space-size=8", "/app/host/cli/main.ts"]
