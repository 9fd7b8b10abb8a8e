# Debian's busybox-static: the shell the local-path provisioner's helper pods
# run (mkdir/rm of a volume's folder), and the client pods of the cluster tests.
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENTRYPOINT ["/bin/sh"]
