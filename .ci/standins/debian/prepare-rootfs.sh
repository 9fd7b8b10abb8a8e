#!/usr/bin/env bash
# Finishes a `debootstrap --variant=minbase --include=ca-certificates bookworm` tree
# before it is imported as portal-standin/debian:bookworm.
# Usage: prepare-rootfs.sh ROOTFS MIRROR SECURITY_MIRROR HOST_CA_BUNDLE
set -euo pipefail
root=$1 mirror=$2 security=$3 host_bundle=$4

# apt sources like the upstream debian image (deb822, updates + security)
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# apt behaviour of the upstream docker images: no cached .debs, no translations,
# no recommends/suggests kept around, and services never start during installs.
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
# like the upstream "slim" images: no docs (except copyright), man pages or translations
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CONF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
  "$root"/usr/share/lintian/* "$root"/usr/share/linda/* "$root"/usr/share/locale/*
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# CA certificates: the host bundle holds the CA of the TLS proxy that HTTPS from
# containers passes through. Keep the certificates that Debian's bundle lacks in
# /usr/local/share/ca-certificates (so a later update-ca-certificates, e.g. from
# ca-certificates-java, keeps them), and ship the host bundle itself as the bundle.
oneline() { awk '/-----BEGIN CERTIFICATE-----/{c=""} {c=c $0 "|"} /-----END CERTIFICATE-----/{print c}' "$1"; }
mkdir -p "$root/usr/local/share/ca-certificates"
rm -f "$root"/usr/local/share/ca-certificates/portal-host-*.crt
n=0
while IFS= read -r cert; do
  n=$((n + 1))
  printf '%s' "$cert" | tr '|' '\n' > "$root/usr/local/share/ca-certificates/portal-host-$n.crt"
done < <(grep -vxFf <(oneline "$root/etc/ssl/certs/ca-certificates.crt") <(oneline "$host_bundle") || true)
echo "host CA certificates not in Debian's bundle: $n"
chroot "$root" update-ca-certificates
cp "$host_bundle" "$root/etc/ssl/certs/ca-certificates.crt"

# clean up
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.cache
: > "$root/etc/machine-id"
: > "$root/etc/resolv.conf"
echo localhost > "$root/etc/hostname"
