#!/usr/bin/env bash
# Initialises one Terraform stack against the shared state bucket.
# Usage: TF_STATE_BUCKET=... AWS_REGION=... scripts/tf-init.sh terraform|bootstrap-terraform|terraform-monitoring|route53
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stack="${1:-}"
case "$stack" in
  terraform | bootstrap-terraform | terraform-monitoring | route53) ;;
  *) die "usage: $0 terraform|bootstrap-terraform|terraform-monitoring|route53" ;;
esac
require_env TF_STATE_BUCKET AWS_REGION
require_commands terraform

log "terraform init $stack (state in s3://$TF_STATE_BUCKET)"
terraform -chdir="$REPO_ROOT/$stack" init -input=false -reconfigure \
  -backend-config="bucket=$TF_STATE_BUCKET" \
  -backend-config="region=$AWS_REGION"
