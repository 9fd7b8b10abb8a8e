# CoreDNS built from its Go module (build.sh): not the upstream coredns/coredns image.
FROM scratch
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
