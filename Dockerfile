# The in-region job image (docs/in-region.md §3): `deno task compile` builds one binary from
# this checkout, with every npm package held to deno.lock (--frozen); the image runs it.
#   docker build -t ACCOUNT.dkr.ecr.REGION.amazonaws.com/permafrost:VERSION .
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY . .
RUN deno task compile

FROM debian:bookworm-slim
COPY --from=build /src/dist/permafrost /usr/local/bin/permafrost
USER 65534:65534
ENV HOME=/tmp PERMAFROST_CACHE_DIR=/tmp/permafrost-cache PERMAFROST_STATE_DIR=/tmp/permafrost-state
ENTRYPOINT ["/usr/local/bin/permafrost"]
