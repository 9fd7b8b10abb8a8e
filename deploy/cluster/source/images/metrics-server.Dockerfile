# metrics-server built from its Go module (build.sh): not the upstream image.
FROM scratch
COPY metrics-server /metrics-server
USER 65534
ENTRYPOINT ["/metrics-server"]
