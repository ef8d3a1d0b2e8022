#!/usr/bin/env bash
# Deploy one service to Kubernetes: its database (CloudNativePG, idempotent),
# then its migrations (a Job, which must complete), then its Deployment (a
# rolling update that waits for readiness). Nothing else is touched.
#
#   deploy/k8s/deploy.sh <service> <image-tag> [registry]
#   PC_DRY_RUN=1 deploy/k8s/deploy.sh accounts 2026.11.26-1   # print what would be applied
#
# The registry defaults to $PC_REGISTRY; images are <registry>/<service>:<tag>.
set -euo pipefail
service=${1:?usage: deploy.sh <service> <image-tag> [registry]}
tag=${2:?usage: deploy.sh <service> <image-tag> [registry]}
registry=${3:-${PC_REGISTRY:-partner-center}}
here=$(cd "$(dirname "$0")" && pwd)
dir=$here/services/$service
namespace=pc
[ -d "$dir" ] || { echo "deploy.sh: no service '$service' under $here/services" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A copy of one part (app, migrate) whose kustomization names the release image.
with_image() {
  rm -rf "${work:?}/$1" && cp -r "$dir/$1" "$work/$1"
  sed -i "s#^  newTag: latest\$#  newName: $registry/$service\n  newTag: $tag#" "$work/$1/kustomization.yaml"
  echo "$work/$1"
}

apply() {  # kustomization directory
  if [ -n "${PC_DRY_RUN:-}" ]; then kubectl kustomize "$1"; echo "---"; else kubectl apply -k "$1"; fi
}

run() { if [ -n "${PC_DRY_RUN:-}" ]; then echo "# would run: $*"; else "$@"; fi; }

if [ -d "$dir/database" ]; then
  apply "$dir/database"
  run kubectl -n "$namespace" wait --for=condition=Ready "cluster.postgresql.cnpg.io/pc-$service-db" --timeout=900s
fi
if [ -d "$dir/migrate" ]; then
  # A Job's pod template cannot change: the previous release's Job goes first.
  run kubectl -n "$namespace" delete job "pc-$service-migrate" --ignore-not-found --wait=true
  apply "$(with_image migrate)"
  if ! run kubectl -n "$namespace" wait --for=condition=complete "job/pc-$service-migrate" --timeout=600s; then
    kubectl -n "$namespace" logs "job/pc-$service-migrate" --tail=100 >&2 || true
    echo "deploy.sh: migrations of $service failed; the running release is untouched" >&2
    exit 1
  fi
fi
apply "$(with_image app)"
run kubectl -n "$namespace" rollout status "deployment/pc-$service" --timeout=600s
echo "deploy.sh: $service is at $registry/$service:$tag" >&2
