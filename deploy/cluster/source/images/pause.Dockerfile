# The pod sandbox (images/pause/main.go), built here: not registry.k8s.io/pause.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
