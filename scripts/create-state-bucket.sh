#!/usr/bin/env bash
# Creates the Terraform state bucket once (bootstrap-terraform then manages its settings). Safe to rerun.
# Usage: TF_STATE_BUCKET=... AWS_REGION=... scripts/create-state-bucket.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env TF_STATE_BUCKET AWS_REGION
require_commands aws

if aws s3api head-bucket --bucket "$TF_STATE_BUCKET" 2>/dev/null; then
  log "state bucket $TF_STATE_BUCKET already exists"
else
  log "creating state bucket $TF_STATE_BUCKET in $AWS_REGION"
  if [[ "$AWS_REGION" == "us-east-1" ]]; then
    aws s3api create-bucket --bucket "$TF_STATE_BUCKET" --region "$AWS_REGION"
  else
    aws s3api create-bucket --bucket "$TF_STATE_BUCKET" --region "$AWS_REGION" \
      --create-bucket-configuration "LocationConstraint=$AWS_REGION"
  fi
fi
aws s3api put-bucket-versioning --bucket "$TF_STATE_BUCKET" --versioning-configuration Status=Enabled
aws s3api put-public-access-block --bucket "$TF_STATE_BUCKET" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
log "state bucket ready"
