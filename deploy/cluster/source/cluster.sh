# shellcheck shell=bash
# The source cluster: one Kubernetes node on this machine, every part built
# from pinned sources (build.sh) or taken from Debian's packages, with no image
# pulled from anywhere. Sourced by deploy/scripts/provider-source.sh, which is
# the provider interface's implementation; see docs/deploy.md for what it is
# for and its limits.
#
# What runs, all as host processes but CoreDNS, metrics-server and the
# local-path provisioner (pods):
#   etcd (Debian), containerd (Debian, a private instance with CRI on, beside
#   Docker's), kube-apiserver, kube-controller-manager, kube-scheduler,
#   kubelet, kube-proxy (iptables), kube-router (NetworkPolicy firewall only),
#   CNI bridge/host-local/portmap/firewall/loopback (Debian).
# Every process's PID is in $STATE/run, every log in $STATE/logs.

HERE_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "${HERE_SOURCE}/versions.sh"

STATE=${SOURCE_CLUSTER_STATE:-/var/lib/portal-source-cluster}
BIN=${SOURCE_CLUSTER_CACHE}/bin
NODE_NAME=portal-node
# The node's address lives on the pod bridge (created here, before the
# kubelet): the API server, the kubelet and NodePorts answer on an address of
# this machine's own, and no traffic of the cluster's leaves it.
NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CONTAINERD_SOCK=/run/portal-containerd/containerd.sock
CONTEXT_NAME=portal-source
# Add-on images, built here FROM scratch (not upstream images; never pulled).
ADDON_IMAGES=(portal-cluster/pause:local portal-cluster/coredns:local portal-cluster/metrics-server:local
  portal-cluster/local-path-provisioner:local portal-cluster/busybox:local)
# What the kubelet and kube-proxy change on the host, restored by source_down.
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.conf.all.route_localnet
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
  net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward)

ctr_k8s() { ctr -a "${CONTAINERD_SOCK}" -n k8s.io "$@"; }
kubectl_source() { "${BIN}/kubectl" --kubeconfig "${STATE}/admin.kubeconfig" "$@"; }

phase_started=0
phase() {
  phase_started=${SECONDS}
  echo "--> $*"
}
phase_done() { echo "<-- $* ($((SECONDS - phase_started))s)"; }

# wait_for SECONDS WHAT CMD...: runs CMD until it succeeds, at most SECONDS.
wait_for() {
  local bound=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      echo "error: ${what} did not happen within ${bound}s" >&2
      return 1
    fi
    sleep 1
  done
}

# ------------------------------------------------------------------ checks

source_can_run() {
  [ "$(uname -s)" = Linux ] || { echo "the source cluster runs on Linux only"; return 1; }
  [ "$(id -u)" = 0 ] || { echo "the source cluster runs its node as root (kubelet, containerd, iptables): run as root"; return 1; }
  return 0
}

# Debian's packages the node needs, installed where missing (root, apt).
SOURCE_PACKAGES=(etcd-server containerd runc containernetworking-plugins iptables ipset conntrack socat openssl busybox-static)
source_install_packages() {
  local missing=() pkg
  for pkg in "${SOURCE_PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${pkg}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing Debian packages: ${missing[*]}; install them and run this again"
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# ------------------------------------------------------------------ images

# Add-on images FROM scratch around the binaries build.sh made; rebuilt when
# their binary changes (the label holds its checksum).
build_addon_images() {
  local ctx name binary sum
  ctx=$(mktemp -d)
  for name in pause coredns metrics-server local-path-provisioner busybox; do
    if [ "${name}" = busybox ]; then binary=/bin/busybox; else binary=${BIN}/${name}; fi
    sum=$(sha256sum "${binary}" | cut -c1-16)
    if [ "$(docker image inspect -f '{{index .Config.Labels "portal.binary"}}' "portal-cluster/${name}:local" 2>/dev/null)" = "${sum}" ]; then
      continue
    fi
    rm -rf "${ctx:?}"/*
    cp "${binary}" "${ctx}/${name}"
    cp "${HERE_SOURCE}/images/${name}.Dockerfile" "${ctx}/Dockerfile"
    # The classic builder (no buildx here) warns that it is deprecated on every build: shown only on failure.
    DOCKER_BUILDKIT=0 docker build -q --label "portal.binary=${sum}" -t "portal-cluster/${name}:local" "${ctx}" >/dev/null 2>"${ctx}.err" ||
      { cat "${ctx}.err" >&2; rm -rf "${ctx}" "${ctx}.err"; return 1; }
    echo "    built portal-cluster/${name}:local"
  done
  rm -rf "${ctx}" "${ctx}.err"
}

# source_load_images IMAGE...: copies images from Docker into the node's
# containerd (what `kind load docker-image` does for kind).
source_load_images() {
  docker save "$@" | ctr_k8s images import - >/dev/null
}

# ------------------------------------------------------------------ files

render() { sed -e "s|@STATE@|${STATE}|g" -e "s|@NODE_IP@|${NODE_IP}|g" -e "s|@NODE_NAME@|${NODE_NAME}|g" \
  -e "s|@POD_CIDR@|${POD_CIDR}|g" -e "s|@CLUSTER_CIDR@|${CLUSTER_CIDR}|g" -e "s|@DNS_SERVICE_IP@|${DNS_SERVICE_IP}|g" \
  -e "s|@CONTAINERD_SOCK@|${CONTAINERD_SOCK}|g" "$1"; }

make_pki() {
  [ -f "${STATE}/pki/ca.crt" ] && return 0
  local pki=${STATE}/pki
  mkdir -p "${pki}"
  (
    cd "${pki}" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=portal-source-ca 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt -days 3650 -subj /CN=portal-front-proxy-ca 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # cert NAME SUBJECT SAN CA EXTENDED_KEY_USAGE
    cert() {
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$5"
        [ -z "$3" ] || echo "subjectAltName=$3"
      } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -CAcreateserial -out "$1.crt" -days 3650 -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    cert apiserver /CN=kube-apiserver "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:${API_SERVICE_IP},IP:${NODE_IP}" ca serverAuth
    cert admin "/O=system:masters/CN=portal-admin" "" ca clientAuth
    cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "" ca clientAuth
    cert controller-manager /CN=system:kube-controller-manager "" ca clientAuth
    cert scheduler /CN=system:kube-scheduler "" ca clientAuth
    cert kube-proxy /CN=system:kube-proxy "" ca clientAuth
    cert kubelet "/O=system:nodes/CN=system:node:${NODE_NAME}" "" ca clientAuth
    cert kubelet-serving "/CN=${NODE_NAME}" "DNS:${NODE_NAME},DNS:localhost,IP:127.0.0.1,IP:${NODE_IP}" ca serverAuth
    cert front-proxy-client /CN=front-proxy-client "" front-proxy-ca clientAuth
    chmod 600 ./*.key
  )
  local name
  for name in admin controller-manager scheduler kube-proxy kubelet; do
    cat >"${STATE}/${name}.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: ${CONTEXT_NAME}
    cluster: { server: "https://127.0.0.1:6443", certificate-authority: ${pki}/ca.crt }
users:
  - name: ${CONTEXT_NAME}-${name}
    user: { client-certificate: ${pki}/${name}.crt, client-key: ${pki}/${name}.key }
contexts:
  - name: ${CONTEXT_NAME}
    context: { cluster: ${CONTEXT_NAME}, user: ${CONTEXT_NAME}-${name} }
current-context: ${CONTEXT_NAME}
EOF
  done
}

write_configs() {
  mkdir -p "${STATE}"/{logs,run,cni/net.d,cni/ipam,containerd,kubelet,local-path,manifests}
  # containerd's own defaults, with CRI on its own root, state and socket.
  # restrict_oom_score_adj: these machines lack CAP_SYS_RESOURCE, and runc
  # cannot give a pod sandbox the negative oom_score_adj CRI asks for.
  containerd config default | sed \
    -e "s|^root = .*|root = \"${STATE}/containerd/root\"|" \
    -e "s|^state = .*|state = \"/run/portal-containerd\"|" \
    -e "s|^  address = \"/run/containerd/containerd.sock\"|  address = \"${CONTAINERD_SOCK}\"|" \
    -e "s|restrict_oom_score_adj = false|restrict_oom_score_adj = true|" \
    -e "s|sandbox_image = .*|sandbox_image = \"docker.io/portal-cluster/pause:local\"|" \
    -e "s|bin_dir = \"/opt/cni/bin\"|bin_dir = \"/usr/lib/cni\"|" \
    -e "s|conf_dir = \"/etc/cni/net.d\"|conf_dir = \"${STATE}/cni/net.d\"|" \
    >"${STATE}/containerd/config.toml"
  grep -q "restrict_oom_score_adj = true" "${STATE}/containerd/config.toml" ||
    die "containerd's default config has no restrict_oom_score_adj line to turn on (containerd $(containerd --version))"
  local file
  for file in 10-bridge.conflist 99-loopback.conf; do render "${HERE_SOURCE}/node/${file}" >"${STATE}/cni/net.d/${file}"; done
  render "${HERE_SOURCE}/node/kubelet.yaml" >"${STATE}/kubelet.yaml"
  render "${HERE_SOURCE}/node/kube-proxy.yaml" >"${STATE}/kube-proxy.yaml"
  for file in coredns.yaml metrics-server.yaml local-path.yaml; do render "${HERE_SOURCE}/addons/${file}" >"${STATE}/manifests/${file}"; done
}

# ------------------------------------------------------------------ processes

# start NAME CMD...: runs CMD in the background, its PID in run/NAME.pid.
start() {
  local name=$1
  shift
  nohup "$@" >"${STATE}/logs/${name}.log" 2>&1 &
  echo $! >"${STATE}/run/${name}.pid"
}

alive() { [ -f "${STATE}/run/$1.pid" ] && kill -0 "$(cat "${STATE}/run/$1.pid")" 2>/dev/null; }

# Fails with the last lines of NAME's log when it has exited.
check_alive() {
  alive "$1" && return 0
  echo "error: $1 exited; the end of ${STATE}/logs/$1.log:" >&2
  tail -n 20 "${STATE}/logs/$1.log" >&2
  return 1
}

stop_process() {
  local pid_file=${STATE}/run/$1.pid pid i
  [ -f "${pid_file}" ] || return 0
  pid=$(cat "${pid_file}")
  if kill "${pid}" 2>/dev/null; then
    for i in $(seq 1 40); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  rm -f "${pid_file}"
  : "${i:-}"
}

save_sysctls() {
  [ -f "${STATE}/sysctl.saved" ] && return 0
  local key
  for key in "${SYSCTLS[@]}"; do
    sysctl -n "${key}" >/dev/null 2>&1 && echo "${key}=$(sysctl -n "${key}" | tr '\t' ' ')"
  done >"${STATE}/sysctl.saved"
}

restore_sysctls() {
  [ -f "${STATE}/sysctl.saved" ] || return 0
  local line
  while IFS= read -r line; do sysctl -q -w "${line}" >/dev/null 2>&1 || true; done <"${STATE}/sysctl.saved"
}

apiserver_ready() { kubectl_source get --raw /readyz; }

start_control_plane() {
  local pki=${STATE}/pki
  start etcd etcd --name portal --data-dir "${STATE}/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster portal=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 2147483648
  start kube-apiserver "${BIN}/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="${NODE_IP}" \
    --service-cluster-ip-range="${SERVICE_CIDR}" --service-node-port-range=30000-32767 \
    --allow-privileged=true --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --client-ca-file="${pki}/ca.crt" --tls-cert-file="${pki}/apiserver.crt" --tls-private-key-file="${pki}/apiserver.key" \
    --kubelet-client-certificate="${pki}/apiserver-kubelet-client.crt" --kubelet-client-key="${pki}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${pki}/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${pki}/sa.pub" --service-account-signing-key-file="${pki}/sa.key" \
    --requestheader-client-ca-file="${pki}/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="${pki}/front-proxy-client.crt" --proxy-client-key-file="${pki}/front-proxy-client.key" \
    --enable-aggregator-routing=true
  wait_for 120 "the API server's /readyz" apiserver_ready || { check_alive etcd; check_alive kube-apiserver; return 1; }
  # The HPA controller syncs every 10 s instead of 15 s, so a test sees it act sooner.
  start kube-controller-manager "${BIN}/kube-controller-manager" --kubeconfig="${STATE}/controller-manager.kubeconfig" \
    --authentication-kubeconfig="${STATE}/controller-manager.kubeconfig" --authorization-kubeconfig="${STATE}/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --service-account-private-key-file="${pki}/sa.key" --root-ca-file="${pki}/ca.crt" \
    --cluster-signing-cert-file="${pki}/ca.crt" --cluster-signing-key-file="${pki}/ca.key" \
    --use-service-account-credentials=true --controllers='*,bootstrapsigner,tokencleaner' \
    --allocate-node-cidrs=true --cluster-cidr="${CLUSTER_CIDR}" --node-cidr-mask-size=24 --service-cluster-ip-range="${SERVICE_CIDR}" \
    --horizontal-pod-autoscaler-sync-period=10s
  start kube-scheduler "${BIN}/kube-scheduler" --kubeconfig="${STATE}/scheduler.kubeconfig" \
    --authentication-kubeconfig="${STATE}/scheduler.kubeconfig" --authorization-kubeconfig="${STATE}/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false
}

node_ready() { kubectl_source wait --for=condition=Ready "node/${NODE_NAME}" --timeout=2s; }

start_node() {
  # The pod bridge with the node's address, before the kubelet checks it.
  if ! ip link show cni0 >/dev/null 2>&1; then
    ip link add cni0 type bridge
  fi
  ip addr replace "${NODE_IP}/24" dev cni0
  ip link set cni0 up
  modprobe br_netfilter 2>/dev/null || true
  sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null 2>&1 || true
  start kubelet "${BIN}/kubelet" --config="${STATE}/kubelet.yaml" --kubeconfig="${STATE}/kubelet.kubeconfig" \
    --root-dir="${STATE}/kubelet" --hostname-override="${NODE_NAME}" --node-ip="${NODE_IP}" --v=1
  start kube-proxy "${BIN}/kube-proxy" --config="${STATE}/kube-proxy.yaml" --hostname-override="${NODE_NAME}"
  wait_for 120 "node ${NODE_NAME} Ready" node_ready || { check_alive kubelet; check_alive kube-proxy; return 1; }
  # kube-router exits when the Node object does not exist yet, so it starts now.
  # Only its firewall: kube-proxy serves Services, the bridge routes pods.
  start kube-router "${BIN}/kube-router" --kubeconfig="${STATE}/admin.kubeconfig" \
    --run-router=false --run-firewall=true --run-service-proxy=false \
    --hostname-override="${NODE_NAME}" --health-port=20244 --metrics-port=0
}

metrics_api_serving() { kubectl_source top node; }

start_addons() {
  kubectl_source apply -f "${STATE}/manifests/coredns.yaml" -f "${STATE}/manifests/metrics-server.yaml" \
    -f "${STATE}/manifests/local-path.yaml" >/dev/null
  kubectl_source -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
  kubectl_source -n local-path-storage rollout status deployment/local-path-provisioner --timeout=180s >/dev/null
  kubectl_source -n kube-system rollout status deployment/metrics-server --timeout=180s >/dev/null
  wait_for 180 "the metrics API to serve (kubectl top node)" metrics_api_serving
}

# Adds the cluster to the user's kubeconfig as context portal-source and makes
# it the current one, as kind does for kind-portal.
export_kubeconfig() {
  local pki=${STATE}/pki
  "${BIN}/kubectl" config set-cluster "${CONTEXT_NAME}" --server=https://127.0.0.1:6443 --certificate-authority="${pki}/ca.crt" >/dev/null
  "${BIN}/kubectl" config set-credentials "${CONTEXT_NAME}" --client-certificate="${pki}/admin.crt" --client-key="${pki}/admin.key" >/dev/null
  "${BIN}/kubectl" config set-context "${CONTEXT_NAME}" --cluster="${CONTEXT_NAME}" --user="${CONTEXT_NAME}" >/dev/null
  "${BIN}/kubectl" config use-context "${CONTEXT_NAME}" >/dev/null
}

source_running() { alive kube-apiserver && alive kubelet && apiserver_ready >/dev/null 2>&1; }

source_up() {
  source_can_run >/dev/null || die "$(source_can_run)"
  phase "Debian packages (etcd, containerd, runc, CNI plugins, iptables, ipset)"
  source_install_packages
  phase_done "packages ready"
  phase "binaries built from pinned sources (cached in ${BIN}; cold: 20-30 min on two cores)"
  bash "${HERE_SOURCE}/build.sh" | sed 's/^/    /'
  phase_done "binaries ready"
  phase "add-on images FROM scratch (pause, CoreDNS, metrics-server, local-path, busybox)"
  build_addon_images
  phase_done "add-on images ready"
  export PATH="${BIN}:${PATH}"
  if source_running; then
    echo "--> the source cluster is already running (${STATE}); reusing it"
    export_kubeconfig
    return 0
  fi
  phase "node files in ${STATE} (PKI, containerd, CNI, kubelet, kube-proxy)"
  make_pki
  write_configs
  save_sysctls
  phase_done "node files written"
  phase "control plane (etcd, containerd, kube-apiserver, controller-manager, scheduler)"
  start containerd containerd --config "${STATE}/containerd/config.toml"
  start_control_plane
  wait_for 60 "containerd to answer on ${CONTAINERD_SOCK}" ctr_k8s version || { check_alive containerd; return 1; }
  phase_done "API server ready"
  phase "add-on images into the node's containerd"
  source_load_images "${ADDON_IMAGES[@]}"
  phase_done "add-on images imported"
  phase "node ${NODE_NAME} (kubelet, kube-proxy, kube-router)"
  start_node
  phase_done "node Ready"
  phase "add-ons (CoreDNS, metrics-server, local-path StorageClass)"
  start_addons
  phase_done "CoreDNS, local-path and the metrics API serving"
  export_kubeconfig
}

# The iptables chains and ipsets of kube-proxy, kube-router and the CNI
# plugins; Docker's stay.
remove_network_rules() {
  local chain table set
  if [ -x "${BIN}/kube-proxy" ]; then "${BIN}/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  # The firewall plugin checks, then inserts: pods set up at once can leave its jump twice.
  while iptables -D FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD 2>/dev/null; do :; done
  for chain in CNI-FORWARD CNI-ADMIN; do iptables -F "${chain}" 2>/dev/null || true; iptables -X "${chain}" 2>/dev/null || true; done
  for chain in $(iptables -t nat -S 2>/dev/null | awk '/^-N CNI-/ {print $2}'); do
    { iptables -t nat -S POSTROUTING | grep -- "-j ${chain}" || true; } | sed 's/^-A/-D/' | while read -r rule; do
      # shellcheck disable=SC2086 # the rule's words are iptables arguments
      iptables -t nat ${rule} 2>/dev/null || true
    done
    iptables -t nat -F "${chain}" 2>/dev/null || true
    iptables -t nat -X "${chain}" 2>/dev/null || true
  done
  # kube-router's own cleanup panics without IPVS in the kernel, so its KUBE-*
  # chains (and kube-proxy's leftovers) go by hand; Docker's chains stay.
  for table in filter nat mangle; do
    { iptables -t "${table}" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' || true; } | sed 's/^-A/-D/' |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule's words are iptables arguments
        eval iptables -t "${table}" ${rule} 2>/dev/null || true
      done
    for chain in $(iptables -t "${table}" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do iptables -t "${table}" -F "${chain}" 2>/dev/null || true; done
    for chain in $(iptables -t "${table}" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do iptables -t "${table}" -X "${chain}" 2>/dev/null || true; done
  done
  for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router-)'); do ipset destroy "${set}" 2>/dev/null || true; done
}

network_rules_left() { iptables-save 2>/dev/null | grep -qE 'KUBE-|CNI-'; }

source_exists() { [ -d "${STATE}/run" ]; }

source_down() {
  [ -d "${STATE}" ] || { echo "no source cluster in ${STATE}; nothing to remove"; return 0; }
  local started=${SECONDS} task container pid shims namespace mount
  export PATH="${BIN}:${PATH}"
  if alive kube-apiserver && alive kubelet && apiserver_ready >/dev/null 2>&1; then
    phase "deleting every pod, so the kubelet unmounts volumes and releases their network"
    for namespace in $(kubectl_source get namespaces -o name | cut -d/ -f2); do
      case "${namespace}" in default | kube-public | kube-node-lease) continue ;; esac
      kubectl_source -n "${namespace}" delete deployments,statefulsets,daemonsets,replicasets,jobs,pods --all --wait=false >/dev/null 2>&1 || true
    done
    local deadline=$((SECONDS + 90))
    while [ -n "$(ctr_k8s tasks ls -q 2>/dev/null)" ] && [ "${SECONDS}" -lt "${deadline}" ]; do sleep 1; done
    phase_done "pods gone"
  fi
  phase "stopping processes (kube-router, kube-proxy, kubelet, scheduler, controller-manager, containerd, API server, etcd)"
  for pid in kube-router kube-proxy kubelet kube-scheduler kube-controller-manager; do stop_process "${pid}"; done
  if [ -S "${CONTAINERD_SOCK}" ]; then
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks kill -s SIGKILL "${task}" >/dev/null 2>&1 || true; done
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks rm -f "${task}" >/dev/null 2>&1 || true; done
    for container in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers rm "${container}" >/dev/null 2>&1 || true; done
  fi
  # The shims containerd started outlive it: the parents of the tasks' init processes.
  # (`|| true`: a task already gone has no parent to find, which is not an error here.)
  shims=$(for pid in /run/portal-containerd/io.containerd.runtime.v2.task/k8s.io/*/init.pid; do
    if [ -f "${pid}" ]; then ps -o ppid= -p "$(cat "${pid}")" || true; fi
  done 2>/dev/null | sort -u)
  stop_process containerd
  for pid in ${shims}; do kill "${pid}" 2>/dev/null || true; done
  pkill -f "containerd-shim-runc-v2 -namespace k8s.io -address ${CONTAINERD_SOCK}" 2>/dev/null || true
  stop_process kube-apiserver
  stop_process etcd
  phase_done "processes stopped"
  phase "network rules, interfaces, mounts, sysctls"
  # A CNI plugin that containerd started may still be running: let it finish
  # (its rules would come back after ours went), then clean until nothing is left.
  wait_for 10 "the CNI plugins to exit" bash -c '! pgrep -f "^/usr/lib/cni/" >/dev/null' || pkill -9 -f '^/usr/lib/cni/' || true
  for _ in 1 2 3; do
    remove_network_rules
    network_rules_left || break
    sleep 2
  done
  if network_rules_left; then
    echo "warning: iptables rules of the cluster are left after 3 passes: $(iptables-save | grep -E 'KUBE-|CNI-' | head -n 3 | tr '\n' ' ')" >&2
  fi
  ip link del cni0 2>/dev/null || true
  ip link del kube-dummy-if 2>/dev/null || true
  for namespace in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do ip netns del "${namespace}" 2>/dev/null || true; done
  awk -v s="${STATE}" -v r=/run/portal-containerd '$2 ~ "^" s || $2 ~ "^" r {print $2}' /proc/mounts | sort -r |
    while read -r mount; do umount -l "${mount}" 2>/dev/null || true; done
  restore_sysctls
  phase_done "host restored"
  phase "removing ${STATE} and the kubeconfig context ${CONTEXT_NAME}"
  rm -rf "${STATE}" /run/portal-containerd
  if command -v "${BIN}/kubectl" >/dev/null 2>&1; then
    "${BIN}/kubectl" config delete-context "${CONTEXT_NAME}" >/dev/null 2>&1 || true
    "${BIN}/kubectl" config delete-cluster "${CONTEXT_NAME}" >/dev/null 2>&1 || true
    "${BIN}/kubectl" config delete-user "${CONTEXT_NAME}" >/dev/null 2>&1 || true
  fi
  phase_done "removed"
  echo "source cluster removed in $((SECONDS - started))s (built binaries stay in ${SOURCE_CLUSTER_CACHE}; delete it to rebuild)"
}
