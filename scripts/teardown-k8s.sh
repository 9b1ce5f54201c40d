#!/usr/bin/env bash
# Removes what Kubernetes created in AWS before terraform destroy: deleting the Ingress lets the load
# balancer controller delete the ALB, its target groups and security groups (Terraform does not know them,
# and a leftover security group or network interface blocks deleting the VPC). Safe to rerun.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_commands aws kubectl helm terraform

cluster_name="$(tf_output_or_empty terraform cluster_name)"
region="$(tf_output_or_empty terraform region)"
if [[ -z "$cluster_name" ]]; then
  log "no cluster in the Terraform state: nothing to tear down in Kubernetes"
  exit 0
fi
aws eks update-kubeconfig --name "$cluster_name" --region "$region"

log "deleting the Ingress (the controller removes the ALB)"
kubectl -n "$NAMESPACE" delete ingress --all --ignore-not-found --wait=true --timeout=5m

log "waiting for the ALB to disappear"
for _ in $(seq 1 60); do
  if ! aws elbv2 describe-load-balancers --region "$region" --names thumbnail-pipeline >/dev/null 2>&1; then
    break
  fi
  sleep 10
done
if aws elbv2 describe-load-balancers --region "$region" --names thumbnail-pipeline >/dev/null 2>&1; then
  die "the ALB thumbnail-pipeline still exists after 10 minutes; see the controller's logs"
fi

log "deleting the application and collector namespaces (their Fargate pods hold network interfaces)"
kubectl delete namespace "$NAMESPACE" fargate-container-insights --ignore-not-found --wait=true --timeout=10m

log "uninstalling the controllers"
helm uninstall keda --namespace keda --ignore-not-found --wait
helm uninstall aws-load-balancer-controller --namespace kube-system --ignore-not-found --wait
log "Kubernetes resources removed; terraform destroy can run"
