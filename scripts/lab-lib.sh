# shellcheck shell=bash
# Functions for scripts/lab: namespaces, veths, bridges, the state file and the
# lab servers. Sourced, never executed. Every command here acts inside a
# namespace of the current run (ip -n NS / ip netns exec NS); nothing touches
# the root namespace's interfaces, addresses, routes, sysctls or nft rules.

LAB_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_SCRIPTS_DIR/.." && pwd)
LAB_STATE_DIR=${LAB_STATE_DIR:-/tmp}

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# --- names ------------------------------------------------------------------

# Namespace suffix of a role. Names stay short: "tl1a2b-dir" is 10 chars.
lab_role_suffix() {
  case $1 in
    client) echo cli ;; router) echo rt ;; director) echo dir ;;
    rs1) echo rs1 ;; rs2) echo rs2 ;; switch) echo sw ;;
    *) return 1 ;;
  esac
}

# Upper-case key used in state variables: LAB_NS_<KEY>.
lab_role_key() { echo "${1^^}"; }

lab_new_prefix() {
  local hex
  hex=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
  echo "tl$hex"
}

lab_check_prefix() {
  [[ $1 =~ ^[a-z][a-z0-9]{1,7}$ ]] ||
    lab_die "bad prefix '$1' (want 2-8 chars [a-z0-9], starting with a letter)"
}

lab_state_path() { echo "$LAB_STATE_DIR/tslb-lab.$1.env"; }
lab_log_dir_path() { echo "$LAB_STATE_DIR/tslb-lab.$1.d"; }

# Deterministic, locally administered MAC from an IPv4 address (02:00:a:b:c:d),
# so `tcpdump -e` output reads like the seed 000 debugging session.
lab_mac_for_ip() {
  local IFS=.
  # shellcheck disable=SC2086
  set -- $1
  printf '02:00:%02x:%02x:%02x:%02x' "$1" "$2" "$3" "$4"
}

# --- state file -------------------------------------------------------------
# Format: one KEY="value" per line, values never contain quotes, $, ` or \,
# so the file can be `source`d by bash or parsed with /^(\w+)="(.*)"$/.

LAB_STATE_KEYS=()

lab_set() {
  local key=$1 value=$2
  [[ $value != *[\"\$\`\\]* ]] || lab_die "state value for $key has a forbidden character"
  printf -v "$key" '%s' "$value"
  local k
  for k in "${LAB_STATE_KEYS[@]}"; do [[ $k == "$key" ]] && return 0; done
  LAB_STATE_KEYS+=("$key")
}

lab_state_write() {
  local file=$1 tmp k
  tmp="$file.tmp.$$"
  {
    echo "# tslb lab state, written by scripts/lab; source it or parse KEY=\"value\" lines"
    for k in "${LAB_STATE_KEYS[@]}"; do printf '%s="%s"\n' "$k" "${!k}"; done
  } >"$tmp"
  mv -f "$tmp" "$file"
}

# Load a state file without executing it: only KEY="value" lines are taken.
lab_state_load() {
  local file=$1 line re='^(LAB_[A-Z0-9_]+)="([^"$`\\]*)"$'
  [[ -r $file ]] || lab_die "no state file $file"
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      lab_set "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    fi
  done <"$file"
  [[ -n ${LAB_PREFIX:-} ]] || lab_die "$file has no LAB_PREFIX"
}

# Which run a command refers to: explicit file or prefix, else $LAB_STATE,
# else the only state file in the state dir.
lab_resolve_state() {
  local arg=${1:-}
  if [[ -n $arg ]]; then
    if [[ -f $arg ]]; then echo "$arg"; return; fi
    lab_check_prefix "$arg"
    lab_state_path "$arg"
    return
  fi
  if [[ -n ${LAB_STATE:-} ]]; then echo "$LAB_STATE"; return; fi
  local files=("$LAB_STATE_DIR"/tslb-lab.*.env)
  [[ -e ${files[0]} ]] || lab_die "no lab run found in $LAB_STATE_DIR (run: scripts/lab up)"
  ((${#files[@]} == 1)) ||
    lab_die "several lab runs in $LAB_STATE_DIR; pass a state file or set LAB_STATE: ${files[*]}"
  echo "${files[0]}"
}

# --- namespaces and links ---------------------------------------------------

# Namespace names, one per line. stderr dropped: `ip netns list` complains
# ("Peer netns reference is invalid") about namespaces that a parallel run is
# deleting at that moment.
lab_ns_list() { ip netns list 2>/dev/null | awk '{print $1}'; }

lab_ns_exists() {
  local names
  names=$(lab_ns_list)
  [[ $'\n'$names$'\n' == *$'\n'"$1"$'\n'* ]]
}

lab_ns_sysctl() { ip netns exec "$1" sysctl -qw "$2" >/dev/null; }

# Create a namespace with loopback up, IPv6 off (no DAD/RS/MLD noise in the
# LB's captures) unless the lab is dual-stack (LAB_IPV6=1: IPv6 on, duplicate
# address detection off so addresses work at once), rp_filter 0 and forwarding
# off unless asked.
lab_ns_create() {
  local ns=$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  if [[ ${LAB_IPV6:-0} == 1 ]]; then
    local s
    for s in all default; do
      lab_ns_sysctl "$ns" "net.ipv6.conf.$s.disable_ipv6=0"
      lab_ns_sysctl "$ns" "net.ipv6.conf.$s.accept_dad=0"
      lab_ns_sysctl "$ns" "net.ipv6.conf.$s.dad_transmits=0"
      lab_ns_sysctl "$ns" "net.ipv6.conf.$s.router_solicitations=0"
    done
  else
    lab_ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1
    lab_ns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6=1
  fi
  lab_ns_sysctl "$ns" net.ipv4.conf.all.rp_filter=0
  lab_ns_sysctl "$ns" net.ipv4.conf.default.rp_filter=0
  lab_ns_sysctl "$ns" net.ipv4.ip_forward=0
}

# LAB_OFFLOADS=default leaves every veth as the kernel makes it (TX checksum
# offload, TSO/GSO on: partial checksums and 64 KB super-frames reach the
# balancer), as most namespace labs and container networks are. LAB_OFFLOADS=off
# (the tuned lab, like NICs without GRO) turns them off so frames carry full
# checksums and are MTU-sized.
lab_offloads_off() {
  [[ ${LAB_OFFLOADS:-off} == default ]] && return 0
  ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
    ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off
}

# A veth pair created inside namespace A with its peer placed straight into B.
lab_veth() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
  ip -n "$ns_a" link add "$if_a" type veth peer name "$if_b" netns "$ns_b"
  lab_offloads_off "$ns_a" "$if_a"
  lab_offloads_off "$ns_b" "$if_b"
}

lab_bridge_create() {
  local ns=$1 br=$2
  ip -n "$ns" link add "$br" type bridge stp_state 0 forward_delay 0
  ip -n "$ns" link set "$br" up
}

# Host interface IF_HOST in NS_HOST, wired to bridge BR of the switch via a
# port called PORT.
lab_attach() {
  local sw=$1 br=$2 port=$3 ns_host=$4 if_host=$5
  lab_veth "$sw" "$port" "$ns_host" "$if_host"
  ip -n "$sw" link set "$port" master "$br"
  ip -n "$sw" link set "$port" up
}

# Address + deterministic MAC + link up; records LAB_<KEY>_{IF,IP,MAC}.
lab_host_if() {
  local key=$1 ns=$2 ifname=$3 ip=$4 plen=$5
  ip -n "$ns" link set "$ifname" address "$(lab_mac_for_ip "$ip")"
  ip -n "$ns" addr add "$ip/$plen" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
  lab_set "LAB_${key}_IF" "$ifname"
  lab_set "LAB_${key}_IP" "$ip"
  lab_set "LAB_${key}_MAC" "$(lab_if_mac "$ns" "$ifname")"
}

lab_if_mac() {
  ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# Bridged frames must not go through br_netfilter in the switch (it would
# validate and defragment them, hiding what the LB really sent). These knobs
# are per namespace only since Linux 5.3; on older kernels leave them alone,
# since writing one would change the root namespace.
lab_switch_no_netfilter() {
  local ns=$1 f major minor
  IFS=. read -r major minor _ <<<"$(uname -r)"
  if ((major < 5 || (major == 5 && minor < 3))); then
    lab_log "kernel $(uname -r) < 5.3: br_netfilter settings left as they are"
    return 0
  fi
  for f in bridge-nf-call-iptables bridge-nf-call-arptables; do
    ip netns exec "$ns" test -w "/proc/sys/net/bridge/$f" || continue
    lab_ns_sysctl "$ns" "net.bridge.$f=0"
  done
}

# --- processes --------------------------------------------------------------

# Kill every process in a namespace: TERM, wait up to ~3 s, then KILL.
lab_ns_kill_all() {
  local ns=$1 i pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  echo "$pids" | xargs -r kill 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z $pids ]] && return 0
    sleep 0.1
  done
  echo "$pids" | xargs -r kill -9 2>/dev/null || true
  sleep 0.2
}

# Start scripts/lab-server.mjs in NS and wait (bounded) until it listens.
lab_start_server() {
  local ns=$1 name=$2 key=$3 logdir=$4
  local log="$logdir/$key.server.log" ready="$logdir/$key.ready" pid i
  rm -f "$ready"
  setsid ip netns exec "$ns" node "$LAB_SCRIPTS_DIR/lab-server.mjs" --name "$name" \
    --http "$(tr ' ' , <<<"${LAB_RS_HTTP_PORTS:-80 8000}")" --udp "9000" --ready-file "$ready" \
    --bind "$([[ ${LAB_IPV6:-0} == 1 ]] && echo :: || echo 0.0.0.0)" </dev/null >"$log" 2>&1 &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    [[ -s $ready ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; lab_die "server $name in $ns exited"; }
    sleep 0.1
  done
  [[ -s $ready ]] || { cat "$log" >&2; lab_die "server $name in $ns not ready after 10 s"; }
  lab_set "LAB_${key}_PID" "$pid"
  lab_set "LAB_${key}_LOG" "$log"
}

# --- teardown ---------------------------------------------------------------

# Remove every namespace of a run (those listed in the state file, plus any
# left over with the run's prefix), killing their processes first. Idempotent.
lab_teardown_prefix() {
  local prefix=$1 listed=${2:-} ns all
  all=$(lab_ns_list | grep -E "^${prefix}-[a-z0-9]+$" || true)
  for ns in $listed $all; do
    lab_ns_exists "$ns" || continue
    lab_ns_kill_all "$ns"
    ip netns del "$ns" 2>/dev/null || lab_log "could not delete namespace $ns"
  done
  rm -f "$(lab_state_path "$prefix")"
  if [[ ${LAB_KEEP_LOGS:-0} != 1 ]]; then rm -rf "$(lab_log_dir_path "$prefix")"; fi
}

# --- topologies -------------------------------------------------------------
# topo_plan fixes every name and address (and LAB_NAMESPACES) before anything
# exists, so a half-built run can always be torn down from its state file.

topo_plan() {
  local prefix=$1 topo=$2 rs_gw=$3 names=$4 dr_rs=${5:-} dns=${6:-0} addrs=${7:-} ipv6=${8:-0} role
  lab_set LAB_VERSION 1
  lab_set LAB_PREFIX "$prefix"
  lab_set LAB_TOPO "$topo"
  lab_set LAB_STATUS creating
  lab_set LAB_STATE "$(lab_state_path "$prefix")"
  lab_set LAB_STATE_DIR "$LAB_STATE_DIR"
  lab_set LAB_LOG_DIR "$(lab_log_dir_path "$prefix")"
  lab_set LAB_REPO "$LAB_REPO"
  lab_set LAB_OWNER_UID "$(id -u)"
  lab_set LAB_CREATED "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [[ $topo == onearm ]]; then
    lab_set LAB_ROLES "switch router director rs1 rs2 client"
  else
    lab_set LAB_ROLES "switch director rs1 rs2 client"
  fi
  # Address plan: "lab" = the lab's own (director beside the VIP, which is assigned
  # nowhere); seed000 / seed003 = the seed's own (the VIP is the director's address).
  [[ -n $addrs ]] || case $topo in flat) addrs=seed001 ;; *) addrs=lab ;; esac
  lab_set LAB_ADDRS "$addrs"
  lab_set LAB_VIP_LOCAL 0
  local all=''
  for role in $LAB_ROLES; do
    lab_set "LAB_NS_$(lab_role_key "$role")" "$prefix-$(lab_role_suffix "$role")"
    all+="${all:+ }$prefix-$(lab_role_suffix "$role")"
  done
  lab_set LAB_NAMESPACES "$all"
  [[ $topo == onearm ]] || lab_set LAB_NS_ROUTER ''
  lab_set LAB_PROTO tcp
  lab_set LAB_VIP_PORT 80
  lab_set LAB_SCHED rr
  lab_set LAB_ALT_PORT 8000
  lab_set LAB_UDP_PORT 9000
  lab_set LAB_RS_HTTP_PORTS "80 8000"
  lab_set LAB_VIP_PORTS 80
  lab_set LAB_RS_COUNT 2
  local name1=rs1 name2=rs2
  if [[ -n $names ]]; then
    [[ $names =~ ^[A-Za-z0-9._-]+,[A-Za-z0-9._-]+$ ]] || lab_die "--names wants NAME1,NAME2"
    name1=${names%,*} name2=${names#*,}
  fi
  lab_set LAB_RS1_NAME "$name1"
  lab_set LAB_RS2_NAME "$name2"
  case $topo in
    onearm) topo_plan_onearm "${rs_gw:-vip}" "$addrs" ;;
    twoarm) topo_plan_twoarm "${rs_gw:-director}" "$addrs" ;;
    flat) topo_plan_flat "$addrs" ;;
  esac
  lab_set LAB_RS_ADDRS "$LAB_RS1_IP $LAB_RS2_IP"
  lab_set LAB_IPV6 "$ipv6"
  if [[ $ipv6 == 1 ]]; then
    [[ $topo == onearm && $addrs == lab ]] || lab_die "--ipv6: the onearm topology with the lab's addresses"
    topo_plan_onearm6
  fi
  lab_plan_dr "$dr_rs"
  lab_set LAB_DNS "$dns"
  local ifaces='' i
  for i in $LAB_DIR_IFACES; do ifaces+=" --iface $i"; done
  local ports='' rs="--rs $LAB_RS1_IP:$LAB_VIP_PORT --rs $LAB_RS2_IP:$LAB_VIP_PORT" p
  for p in $LAB_VIP_PORTS; do ports+="${ports:+ }--port $p"; done
  # Several ports: each server on the service's own port (ipvsadm -a -r IP without :PORT).
  [[ $LAB_VIP_PORTS == "$LAB_VIP_PORT" ]] || rs="--rs $LAB_RS1_IP --rs $LAB_RS2_IP"
  lab_set LAB_LB_ARGS "--vip $LAB_VIP $ports --proto $LAB_PROTO $rs --sched ${OPT_SCHED:-$LAB_SCHED} --mode nat$ifaces --udp-port $LAB_UDP_PORT"
}

# Gateway address for a real server in onearm: vip|router|director.
onearm_gw() {
  case $1 in
    vip) echo "$LAB_VIP" ;;              # seed 000: GATEWAY=10.0.0.127
    router) echo "$LAB_ROUTER_IP" ;;     # seed 000's failure: replies bypass the LB (and DR's normal case)
    director) echo "$LAB_DIR_PUB_IP" ;;
    *) lab_die "--rs-gw for onearm: vip|router|director (or two of them: GW1,GW2)" ;;
  esac
}

# Seed 000: AWS VPC, one subnet. The router stands for the VPC router.
# --rs-gw X or X,Y (one per real server: a NAT server and a DR server side by side).
# --addrs seed000: the seed's own addresses, the director being 10.0.0.127 = the VIP
# (a local VIP, as kernel IPVS has it), so GATEWAY=10.0.0.127 is the director itself.
topo_plan_onearm() {
  local gw_mode=$1 addrs=${2:-lab} dir_ip=10.0.0.2
  case $addrs in
    lab) ;;
    seed000) dir_ip=10.0.0.127; lab_set LAB_VIP_LOCAL 1 ;;
    *) lab_die "--addrs for onearm: seed000 (the seed's own: director = VIP 10.0.0.127)" ;;
  esac
  lab_set LAB_VIP 10.0.0.127
  lab_set LAB_PUB_NET 10.0.0.0/24
  lab_set LAB_PRIV_NET 10.0.0.0/24
  lab_set LAB_CLIENT_NET 198.51.100.0/24
  lab_set LAB_SWITCH_BRIDGES br0
  lab_set LAB_CLIENT_IF eth0; lab_set LAB_CLIENT_IP 198.51.100.10; lab_set LAB_CLIENT_GW 198.51.100.1
  lab_set LAB_ROUTER_IF eth0; lab_set LAB_ROUTER_IP 10.0.0.1
  lab_set LAB_ROUTER_PUB_IF eth1; lab_set LAB_ROUTER_PUB_IP 198.51.100.1
  lab_set LAB_DIR_IFACES eth0
  lab_set LAB_DIR_PUB_IF eth0; lab_set LAB_DIR_PUB_IP "$dir_ip"
  lab_set LAB_DIR_PRIV_IF eth0; lab_set LAB_DIR_PRIV_IP "$dir_ip"
  lab_set LAB_DIR_GW 10.0.0.1
  lab_set LAB_RS1_IF eth0; lab_set LAB_RS1_IP 10.0.0.185
  lab_set LAB_RS2_IF eth0; lab_set LAB_RS2_IP 10.0.0.86
  local m1=${gw_mode%%,*} m2=${gw_mode#*,}
  lab_set LAB_RS_GW_MODE "$m1"
  lab_set LAB_RS_GW "$(onearm_gw "$m1")"
  lab_set LAB_RS1_GW "$LAB_RS_GW"
  lab_set LAB_RS2_GW "$(onearm_gw "$m2")"
  lab_set LAB_RS2_GW_MODE "$m2"
}

# The IPv6 half of a dual-stack onearm lab (documentation prefix 2001:db8::/32):
# the servers' segment 2001:db8:10::/64 (router ::1, director ::2, VIP ::127 assigned
# nowhere, servers ::185 and ::86), the clients' 2001:db8:51::/64 behind the router. Each
# server's IPv6 gateway follows its IPv4 one (vip, router or director).
topo_plan_onearm6() {
  lab_set LAB_VIP6 2001:db8:10::127
  lab_set LAB_PUB_NET6 2001:db8:10::/64
  lab_set LAB_CLIENT_NET6 2001:db8:51::/64
  lab_set LAB_CLIENT_IP6 2001:db8:51::10; lab_set LAB_CLIENT_GW6 2001:db8:51::1
  lab_set LAB_ROUTER_IP6 2001:db8:10::1; lab_set LAB_ROUTER_PUB_IP6 2001:db8:51::1
  lab_set LAB_DIR_PUB_IP6 2001:db8:10::2
  lab_set LAB_RS1_IP6 2001:db8:10::185
  lab_set LAB_RS2_IP6 2001:db8:10::86
  local key mode
  for key in RS1 RS2; do
    mode=LAB_${key}_GW_MODE
    [[ $key == RS1 ]] && mode=LAB_RS_GW_MODE
    case ${!mode} in
      vip) lab_set "LAB_${key}_GW6" "$LAB_VIP6" ;;
      router) lab_set "LAB_${key}_GW6" "$LAB_ROUTER_IP6" ;;
      director) lab_set "LAB_${key}_GW6" "$LAB_DIR_PUB_IP6" ;;
    esac
  done
}

# Seeds 001 and 004: everything on one segment, the client included; no router.
# The real servers answer clients directly (DR), so they need no gateway.
topo_plan_flat() {
  local addrs=$1 net
  if [[ $addrs == seed004 ]]; then
    net=10.0.0
    lab_set LAB_VIP 10.0.0.5
    lab_set LAB_DIR_PUB_IP 10.0.0.10
    lab_set LAB_RS1_IP 10.0.0.12
    lab_set LAB_RS2_IP 10.0.0.14
    lab_set LAB_CLIENT_IP 10.0.0.20
  else
    net=192.168.0
    lab_set LAB_VIP 192.168.0.141
    lab_set LAB_DIR_PUB_IP 192.168.0.139
    lab_set LAB_RS1_IP 192.168.0.142
    lab_set LAB_RS2_IP 192.168.0.143
    lab_set LAB_CLIENT_IP 192.168.0.10
  fi
  lab_set LAB_PUB_NET "$net.0/24"
  lab_set LAB_PRIV_NET "$net.0/24"
  lab_set LAB_CLIENT_NET "$net.0/24"
  lab_set LAB_SWITCH_BRIDGES br0
  lab_set LAB_CLIENT_IF eth0; lab_set LAB_CLIENT_GW ''
  lab_set LAB_DIR_IFACES eth0
  lab_set LAB_DIR_PUB_IF eth0
  lab_set LAB_DIR_PRIV_IF eth0; lab_set LAB_DIR_PRIV_IP "$LAB_DIR_PUB_IP"
  lab_set LAB_DIR_GW ''
  lab_set LAB_RS1_IF eth0
  lab_set LAB_RS2_IF eth0
  lab_set LAB_RS_GW_MODE none
  lab_set LAB_RS_GW ''
  lab_set LAB_RS1_GW ''
  lab_set LAB_RS2_GW ''
}

# --dr-rs MODE or MODE1,MODE2: ok | arp | novip | none (see scripts/lab header); '' = not DR.
lab_plan_dr() {
  local spec=$1 m1 m2 m
  m1=${spec%%,*} m2=${spec#*,}
  for m in $m1 $m2; do
    case $m in ok | arp | novip | none) ;; *) lab_die "--dr-rs: ok|arp|novip|none (or MODE1,MODE2)" ;; esac
  done
  lab_set LAB_RS1_DR "$m1"
  lab_set LAB_RS2_DR "$m2"
}

# Seed 003: VirtualBox, public and private networks, director in between.
# --addrs seed003: the seed's own, the director's public address being 192.168.2.200 =
# the VIP, services on 80 and 443 (plain HTTP on both in the lab: the balancer is L4), wlc.
topo_plan_twoarm() {
  local gw_mode=$1 addrs=${2:-lab} pub_ip=192.168.2.2
  [[ $gw_mode == director ]] || lab_die "--rs-gw for twoarm: director"
  case $addrs in
    lab) ;;
    seed003)
      pub_ip=192.168.2.200
      lab_set LAB_VIP_LOCAL 1
      lab_set LAB_VIP_PORTS "80 443"
      lab_set LAB_RS_HTTP_PORTS "80 443 8000"
      lab_set LAB_SCHED wlc ;;
    *) lab_die "--addrs for twoarm: seed003 (the seed's own: director = VIP 192.168.2.200)" ;;
  esac
  lab_set LAB_VIP 192.168.2.200
  lab_set LAB_PUB_NET 192.168.2.0/24
  lab_set LAB_PRIV_NET 192.168.33.0/24
  lab_set LAB_CLIENT_NET 192.168.2.0/24
  lab_set LAB_SWITCH_BRIDGES "br0 br1"
  lab_set LAB_CLIENT_IF eth0; lab_set LAB_CLIENT_IP 192.168.2.10; lab_set LAB_CLIENT_GW ''
  lab_set LAB_DIR_IFACES "eth0 eth1"
  lab_set LAB_DIR_PUB_IF eth0; lab_set LAB_DIR_PUB_IP "$pub_ip"
  lab_set LAB_DIR_PRIV_IF eth1; lab_set LAB_DIR_PRIV_IP 192.168.33.100
  lab_set LAB_DIR_GW ''
  lab_set LAB_RS1_IF eth0; lab_set LAB_RS1_IP 192.168.33.111
  lab_set LAB_RS2_IF eth0; lab_set LAB_RS2_IP 192.168.33.112
  lab_set LAB_RS_GW_MODE director
  lab_set LAB_RS_GW 192.168.33.100
  lab_set LAB_RS1_GW 192.168.33.100
  lab_set LAB_RS2_GW 192.168.33.100
}

topo_build() {
  local ns
  mkdir -p "$LAB_LOG_DIR"
  for ns in $LAB_NAMESPACES; do lab_ns_create "$ns"; done
  lab_switch_no_netfilter "$LAB_NS_SWITCH"
  case ${LAB_TOPO:?} in
    onearm) topo_build_onearm ;;
    twoarm) topo_build_twoarm ;;
    flat) topo_build_flat ;;
  esac
  lab_set LAB_DIR_IP "$LAB_DIR_PUB_IP"
  lab_set LAB_DIR_MAC "$LAB_DIR_PUB_MAC"
  lab_rs_dr RS1
  lab_rs_dr RS2
  lab_start_server "$LAB_NS_RS1" "$LAB_RS1_NAME" RS1 "$LAB_LOG_DIR"
  lab_start_server "$LAB_NS_RS2" "$LAB_RS2_NAME" RS2 "$LAB_LOG_DIR"
  if [[ ${LAB_DNS:-0} == 1 ]]; then
    lab_start_dns RS1
    lab_start_dns RS2
  fi
}

# A real server set up for DR as seeds 001, 002 and 004 do: the VIP on lo as a /32
# (accept packets for it, answer from it) and ARP kept quiet about it.
lab_rs_dr() {
  local key=$1 ns mode ifname
  ns=LAB_NS_$key mode=LAB_${key}_DR ifname=LAB_${key}_IF
  ns=${!ns} mode=${!mode:-} ifname=${!ifname}
  case $mode in
    ok | novip)
      local s
      for s in all "$ifname"; do
        lab_ns_sysctl "$ns" "net.ipv4.conf.$s.arp_ignore=1"
        lab_ns_sysctl "$ns" "net.ipv4.conf.$s.arp_announce=2"
      done ;;
  esac
  case $mode in
    ok | arp) ip -n "$ns" addr add "$LAB_VIP/32" dev lo ;;
  esac
  # IPv6 needs no arp_ignore: Linux answers a Neighbour Solicitation only for addresses
  # of the interface it arrives on (ndisc_recv_ns), so the VIP on lo stays quiet.
  case $mode/${LAB_IPV6:-0} in
    ok/1 | arp/1) ip -n "$ns" -6 addr add "$LAB_VIP6/128" dev lo nodad ;;
  esac
}

# dnsmasq on 53 (UDP and TCP) in a real server: example.lab A = the server's own
# address, TXT who.example.lab = its name, so dig shows who answered. Listens on
# the VIP too when the server has it (DR).
lab_start_dns() {
  local key=$1 ns ip name listen log pid i
  ns=LAB_NS_$key ip=LAB_${key}_IP name=LAB_${key}_NAME
  ns=${!ns} ip=${!ip} name=${!name}
  listen=$ip
  if ip -n "$ns" -4 -o addr show dev lo | grep -q " $LAB_VIP/32"; then listen+=",$LAB_VIP"; fi
  log="$LAB_LOG_DIR/$key.dns.log"
  setsid ip netns exec "$ns" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --user=root --group=root --pid-file= --port 53 --listen-address="$listen" --bind-interfaces \
    --address="/example.lab/$ip" --txt-record="who.example.lab,$name" \
    --log-queries --log-facility=- </dev/null >"$log" 2>&1 &
  pid=$!
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; lab_die "dnsmasq in $ns exited"; }
    if ip netns exec "$ns" dig +short +time=1 +tries=1 "@$ip" example.lab 2>/dev/null | grep -qx "$ip"; then
      lab_set "LAB_${key}_DNS_PID" "$pid"
      lab_set "LAB_${key}_DNS_LOG" "$log"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  lab_die "dnsmasq in $ns not answering after 5 s"
}

topo_build_onearm() {
  local sw=$LAB_NS_SWITCH
  lab_bridge_create "$sw" br0
  lab_attach "$sw" br0 p-rt "$LAB_NS_ROUTER" eth0
  lab_attach "$sw" br0 p-dir "$LAB_NS_DIRECTOR" eth0
  lab_attach "$sw" br0 p-rs1 "$LAB_NS_RS1" eth0
  lab_attach "$sw" br0 p-rs2 "$LAB_NS_RS2" eth0
  lab_veth "$LAB_NS_ROUTER" eth1 "$LAB_NS_CLIENT" eth0
  lab_host_if ROUTER "$LAB_NS_ROUTER" eth0 "$LAB_ROUTER_IP" 24
  lab_host_if ROUTER_PUB "$LAB_NS_ROUTER" eth1 "$LAB_ROUTER_PUB_IP" 24
  lab_ns_sysctl "$LAB_NS_ROUTER" net.ipv4.ip_forward=1
  lab_host_if CLIENT "$LAB_NS_CLIENT" eth0 "$LAB_CLIENT_IP" 24
  ip -n "$LAB_NS_CLIENT" route add default via "$LAB_CLIENT_GW"
  lab_host_if DIR_PUB "$LAB_NS_DIRECTOR" eth0 "$LAB_DIR_PUB_IP" 24
  lab_set LAB_DIR_PRIV_MAC "$LAB_DIR_PUB_MAC"
  ip -n "$LAB_NS_DIRECTOR" route add default via "$LAB_DIR_GW"
  lab_host_if RS1 "$LAB_NS_RS1" eth0 "$LAB_RS1_IP" 24
  lab_host_if RS2 "$LAB_NS_RS2" eth0 "$LAB_RS2_IP" 24
  ip -n "$LAB_NS_RS1" route add default via "$LAB_RS1_GW"
  ip -n "$LAB_NS_RS2" route add default via "$LAB_RS2_GW"
  [[ ${LAB_IPV6:-0} == 1 ]] && topo_build_onearm6
  return 0
}

topo_build_onearm6() {
  local a6='-6 addr add'
  ip -n "$LAB_NS_ROUTER" $a6 "$LAB_ROUTER_IP6/64" dev eth0 nodad
  ip -n "$LAB_NS_ROUTER" $a6 "$LAB_ROUTER_PUB_IP6/64" dev eth1 nodad
  lab_ns_sysctl "$LAB_NS_ROUTER" net.ipv6.conf.all.forwarding=1
  ip -n "$LAB_NS_CLIENT" $a6 "$LAB_CLIENT_IP6/64" dev eth0 nodad
  ip -n "$LAB_NS_CLIENT" -6 route add default via "$LAB_CLIENT_GW6"
  ip -n "$LAB_NS_DIRECTOR" $a6 "$LAB_DIR_PUB_IP6/64" dev eth0 nodad
  ip -n "$LAB_NS_DIRECTOR" -6 route add default via "$LAB_ROUTER_IP6"
  ip -n "$LAB_NS_RS1" $a6 "$LAB_RS1_IP6/64" dev eth0 nodad
  ip -n "$LAB_NS_RS2" $a6 "$LAB_RS2_IP6/64" dev eth0 nodad
  ip -n "$LAB_NS_RS1" -6 route add default via "$LAB_RS1_GW6"
  ip -n "$LAB_NS_RS2" -6 route add default via "$LAB_RS2_GW6"
}

topo_build_flat() {
  local sw=$LAB_NS_SWITCH
  lab_bridge_create "$sw" br0
  lab_attach "$sw" br0 p-cli "$LAB_NS_CLIENT" eth0
  lab_attach "$sw" br0 p-dir "$LAB_NS_DIRECTOR" eth0
  lab_attach "$sw" br0 p-rs1 "$LAB_NS_RS1" eth0
  lab_attach "$sw" br0 p-rs2 "$LAB_NS_RS2" eth0
  lab_host_if CLIENT "$LAB_NS_CLIENT" eth0 "$LAB_CLIENT_IP" 24
  lab_host_if DIR_PUB "$LAB_NS_DIRECTOR" eth0 "$LAB_DIR_PUB_IP" 24
  lab_set LAB_DIR_PRIV_MAC "$LAB_DIR_PUB_MAC"
  lab_host_if RS1 "$LAB_NS_RS1" eth0 "$LAB_RS1_IP" 24
  lab_host_if RS2 "$LAB_NS_RS2" eth0 "$LAB_RS2_IP" 24
}

topo_build_twoarm() {
  local sw=$LAB_NS_SWITCH
  lab_bridge_create "$sw" br0
  lab_bridge_create "$sw" br1
  lab_attach "$sw" br0 p-cli "$LAB_NS_CLIENT" eth0
  lab_attach "$sw" br0 p-dir0 "$LAB_NS_DIRECTOR" eth0
  lab_attach "$sw" br1 p-dir1 "$LAB_NS_DIRECTOR" eth1
  lab_attach "$sw" br1 p-rs1 "$LAB_NS_RS1" eth0
  lab_attach "$sw" br1 p-rs2 "$LAB_NS_RS2" eth0
  lab_host_if CLIENT "$LAB_NS_CLIENT" eth0 "$LAB_CLIENT_IP" 24
  lab_host_if DIR_PUB "$LAB_NS_DIRECTOR" eth0 "$LAB_DIR_PUB_IP" 24
  lab_host_if DIR_PRIV "$LAB_NS_DIRECTOR" eth1 "$LAB_DIR_PRIV_IP" 24
  lab_host_if RS1 "$LAB_NS_RS1" eth0 "$LAB_RS1_IP" 24
  lab_host_if RS2 "$LAB_NS_RS2" eth0 "$LAB_RS2_IP" 24
  ip -n "$LAB_NS_RS1" route add default via "$LAB_RS_GW"
  ip -n "$LAB_NS_RS2" route add default via "$LAB_RS_GW"
}
