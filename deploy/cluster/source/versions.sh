# shellcheck shell=bash
# Pins of the source cluster (sourced by its scripts). Kubernetes stays on 1.33:
# these machines run cgroup v1, which kubelet 1.35+ refuses by default, and
# Debian's containerd is 1.6.
# shellcheck disable=SC2034 # read by the scripts that source this file
K8S_VERSION=v1.33.13
K8S_VERSION_MAJOR=1
K8S_VERSION_MINOR=33
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
COREDNS_VERSION=v1.12.1
METRICS_SERVER_VERSION=v0.8.0
LOCAL_PATH_VERSION=v0.0.30
KUBE_ROUTER_VERSION=v2.1.0
# Prometheus 2.42.0 (the version deploy/ pins) is published as Go module v0.42.0.
PROMETHEUS_VERSION=2.42.0
PROMETHEUS_MODULE_VERSION=v0.42.0
PAUSE_VERSION=1
SOURCE_CLUSTER_COMPONENTS=(pause kubernetes coredns metrics-server local-path-provisioner kube-router prometheus)
SOURCE_CLUSTER_CACHE=${SOURCE_CLUSTER_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/portal-source-cluster}
