#!/usr/bin/env bash
# `make run`: the portal on SQLite with the local test identity provider and a local trade-register
# fake, all on loopback. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
PORT=${PORT:-8000}
IDP_PORT=${IDP_PORT:-8001}
YTJ_PORT=${YTJ_PORT:-8002}
BIN=.venv/bin

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

mkdir -p var
$BIN/python -m app.cli test-idp --host "$HOST" --port "$IDP_PORT" > var/idp.log 2>&1 &
pids+=($!)
$BIN/python -m tests.fakes.ytj --port "$YTJ_PORT" > var/ytj.log 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  if $BIN/python -c "import httpx,sys; httpx.get('http://$HOST:$IDP_PORT/.well-known/openid-configuration', timeout=1).raise_for_status()" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

export EMPLOYER_OIDC_ISSUER="http://$HOST:$IDP_PORT"
export STAFF_OIDC_ISSUER="http://$HOST:$IDP_PORT"
export OUTBOX_WORKER=true MAIL_BACKEND=file MAIL_DIR=var/mail  # e-mail lands as .eml files in var/mail
export YTJ_BASE_URL="http://$HOST:$YTJ_PORT/opendata-ytj-api/v3"

cat <<TXT

  Portal:                   http://$HOST:$PORT/
  Test identity provider:   http://$HOST:$IDP_PORT/   (pick a demo user on its login page)

  Employers  (log in at http://$HOST:$PORT/login):
    employer-one        one company: Kahvila Esimerkki Oy
    employer-two-orgs   Rakennus Demo Oy and the association Kallion Nuorisoyhdistys ry
    no-orgs             no organisations
  Staff      (log in at http://$HOST:$PORT/admin/login):
    staff-handler  staff-decider  staff-payer  staff-admin

TXT
$BIN/uvicorn app.main:app --host "$HOST" --port "$PORT" --no-access-log
