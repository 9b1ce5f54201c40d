#!/usr/bin/env bash
# Installs (or upgrades) KEDA and the AWS Load Balancer Controller with Helm, at pinned chart versions, each
# with its IRSA role from the Terraform outputs. Safe to rerun.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEDA_CHART_VERSION="2.17.2"
LOAD_BALANCER_CONTROLLER_CHART_VERSION="1.13.4"

require_commands helm kubectl terraform

cluster_name="$(tf_output terraform cluster_name)"
region="$(tf_output terraform region)"
vpc_id="$(tf_output terraform vpc_id)"
keda_role_arn="$(tf_output terraform keda_role_arn)"
lbc_role_arn="$(tf_output terraform load_balancer_controller_role_arn)"

log "adding Helm repositories"
helm repo add kedacore https://kedacore.github.io/charts --force-update >/dev/null
helm repo add eks https://aws.github.io/eks-charts --force-update >/dev/null
helm repo update kedacore eks >/dev/null

log "installing KEDA $KEDA_CHART_VERSION (operator role $keda_role_arn)"
helm upgrade --install keda kedacore/keda \
  --version "$KEDA_CHART_VERSION" \
  --namespace keda --create-namespace \
  --set podIdentity.aws.irsa.enabled=true \
  --set-string podIdentity.aws.irsa.roleArn="$keda_role_arn" \
  --wait --timeout 10m

# Fargate has no instance metadata service, so the controller is told its region and VPC.
log "installing AWS Load Balancer Controller $LOAD_BALANCER_CONTROLLER_CHART_VERSION"
helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller \
  --version "$LOAD_BALANCER_CONTROLLER_CHART_VERSION" \
  --namespace kube-system \
  --set-string clusterName="$cluster_name" \
  --set-string region="$region" \
  --set-string vpcId="$vpc_id" \
  --set serviceAccount.create=true \
  --set-string serviceAccount.name=aws-load-balancer-controller \
  --set-string "serviceAccount.annotations.eks\.amazonaws\.com/role-arn=$lbc_role_arn" \
  --wait --timeout 10m

kubectl -n keda rollout status deployment/keda-operator --timeout=5m
kubectl -n kube-system rollout status deployment/aws-load-balancer-controller --timeout=5m
log "controllers ready"
