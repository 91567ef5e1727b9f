# Shared by the bench scripts (sourced from the workspace root); not a script of its own.

# build_ours [BUILD-STATIC FLAGS...]: builds ccaas-peer (release) and ccaas-deploy, then our
# asset-transfer-basic as `ccaas-deploy build-static` builds it for a container image; prints
# the binary's path.
build_ours() {
  cargo build --release --locked -p ccaas-testkit >&2
  cargo build --locked -p ccaas-deploy >&2
  target/debug/ccaas-deploy build-static -p asset-transfer-basic "$@" --output json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["binary"])'
}

# serve PORT LOG COMMAND...: starts the chaincode server COMMAND in the background (its pid in $!)
# on 127.0.0.1:PORT, its stderr in LOG, and waits up to 30 s for its listening socket without
# connecting to it (a probe would be a failed connection in the server's profile). Needs ss.
serve() {
  local port=$1 log=$2
  shift 2
  CHAINCODE_SERVER_ADDRESS=127.0.0.1:$port CHAINCODE_ID=basic:1 RUST_LOG=warn "$@" 2> "$log" &
  for _ in $(seq 150); do [ -n "$(ss -Hltn "sport = :$port")" ] && return 0; sleep 0.2; done
  echo "the chaincode server did not listen on port $port within 30 s (its log: $log)" >&2
  return 1
}
