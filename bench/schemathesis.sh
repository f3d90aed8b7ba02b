#!/usr/bin/env bash
# Property-based API testing with schemathesis against the OpenAPI document: the demo
# on a fresh data directory, a caseworker's token, every operation generated and
# fuzzed; fails on any 5xx and on any response the document does not describe (status
# code, content type, body schema, headers). One command:
#   pip install schemathesis && cargo build --release && bash bench/schemathesis.sh [EXAMPLES]
# CHECKS=all also checks that invalid requests are refused and valid ones accepted.
set -euo pipefail
BIN="${AMPARO_BIN:-${CARGO_TARGET_DIR:-target}/release/amparo}"
EXAMPLES="${1:-10}"
DATA="$(mktemp -d)"
PORT=18383
"$BIN" --data-dir "$DATA" demo --listen 127.0.0.1:$PORT >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 60); do grep -q "listening" "$DATA/server.log" && break; sleep 1; done
TOKEN="$("$BIN" --data-dir "$DATA" token create --username caseworker | head -n1)"
schemathesis run "http://127.0.0.1:$PORT/api/v1/openapi.json" --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" --checks "${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}" --max-examples "$EXAMPLES" --workers 2 \
  --seed 20261129
