# syntax=docker/dockerfile:1
# Container images of helm-ha, built from the static release binaries (no compiler inside).
#
#   helm-ha     (the default target): the binary alone on distroless/static, for pipelines:
#                 helm template plane ./chart | docker run -i --rm ghcr.io/helm-ha/helm-ha check
#   argocd-cmp  the Argo CD Config Management Plugin sidecar (examples/argocd): bash, helm and
#               helm-ha, running as uid 999
#
# The release workflow (.github/workflows/release.yml) puts each platform's binary at
# dist/linux-<arch>/helm-ha and builds both targets for linux/amd64 and linux/arm64. By hand:
#   mkdir -p dist/linux-amd64 && cp "$(bash scripts/build-release.sh)" dist/linux-amd64/helm-ha
#   docker build -t helm-ha .                                   # or --target argocd-cmp

FROM alpine:3.22 AS argocd-cmp
ARG TARGETARCH
# The Helm the sidecar renders with (Helm 3: what Argo CD itself ships); verified against the
# checksum get.helm.sh publishes next to it.
ARG HELM_VERSION=v3.18.0
RUN set -eux; \
    apk add --no-cache bash ca-certificates; \
    cd /tmp; \
    wget -q "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" \
         "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz.sha256sum"; \
    sha256sum -c "helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz.sha256sum"; \
    tar -xzf "helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" "linux-${TARGETARCH}/helm"; \
    install -m 0755 "linux-${TARGETARCH}/helm" /usr/local/bin/helm; \
    rm -rf /tmp/*; \
    adduser -D -u 999 -h /home/argocd argocd
COPY --chmod=0755 dist/linux-${TARGETARCH}/helm-ha /usr/local/bin/helm-ha
USER 999
WORKDIR /home/argocd

FROM gcr.io/distroless/static-debian12:nonroot AS helm-ha
ARG TARGETARCH
COPY --chmod=0755 dist/linux-${TARGETARCH}/helm-ha /usr/local/bin/helm-ha
ENTRYPOINT ["/usr/local/bin/helm-ha"]
