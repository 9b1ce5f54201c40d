#!/usr/bin/env bash
# Everything after terraform/: kubeconfig, controllers, manifests. Safe to rerun.
# Usage: IMAGE_TAG=1.0.5 [ADMIN_TOKEN=...] scripts/deploy-k8s.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env IMAGE_TAG
require_commands aws kubectl helm terraform node

cluster_name="$(tf_output terraform cluster_name)"
region="$(tf_output terraform region)"

log "kubeconfig for $cluster_name"
aws eks update-kubeconfig --name "$cluster_name" --region "$region"

"$REPO_ROOT/scripts/install-controllers.sh"
"$REPO_ROOT/scripts/deploy-manifests.sh"
