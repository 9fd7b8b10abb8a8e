# local-path-provisioner built from its Go module (build.sh): not rancher's image.
FROM scratch
COPY local-path-provisioner /usr/bin/local-path-provisioner
ENTRYPOINT ["/usr/bin/local-path-provisioner"]
