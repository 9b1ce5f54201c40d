#!/usr/bin/env bash
# Applies k8s/ with this account's values and waits for the rollout. Safe to rerun.
# Usage: IMAGE_TAG=1.0.5 ADMIN_TOKEN=... scripts/deploy-manifests.sh
#   IMAGE_TAG        tag pushed by build-push (required)
#   ADMIN_TOKEN      token for the admin routes without the ALB (automation through a port-forward); kept in
#                    the thumbnail-admin Secret (required the first time; later runs keep the Secret)
#   CERTIFICATE_ARN  an ACM certificate of your own for the dashboard's host; default: route53's output
#   OIDC_ISSUER, OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT, OIDC_USER_INFO_ENDPOINT, OIDC_CLIENT_ID,
#   OIDC_CLIENT_SECRET  viewers sign in with your OpenID Connect provider (terraform var oidc_issuer set)
#                    instead of the Cognito pool Terraform creates
# The dashboard is HTTPS only and private: without a certificate, or a way for viewers to sign in, the
# manifests do not render and nothing is applied.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env IMAGE_TAG
require_commands kubectl terraform node

# Every value the manifests take (packages/infra-check/src/manifests.ts, MANIFEST_VALUES).
AWS_REGION="$(tf_output terraform region)"
AWS_ACCOUNT_ID="$(tf_output terraform account_id)"
CLUSTER_NAME="$(tf_output terraform cluster_name)"
ECR_REGISTRY="$AWS_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com"
S3_BUCKET="$(tf_output terraform bucket_name)"
TEST_SOURCE_BUCKET="$(tf_output terraform test_source_bucket_name)"
SQS_QUEUE_URL="$(tf_output terraform queue_url)"
SQS_DLQ_URL="$(tf_output terraform dlq_url)"
MAX_RECEIVE_COUNT="$(tf_output terraform max_receive_count)"
EVENTS_TOPIC_ARN="$(tf_output terraform events_topic_arn)"
WORKER_ROLE_ARN="$(tf_output terraform worker_role_arn)"
API_ROLE_ARN="$(tf_output terraform api_role_arn)"
ADOT_COLLECTOR_ROLE_ARN="$(tf_output terraform adot_collector_role_arn)"
POD_LOG_GROUP="$(tf_output terraform pod_log_group)"
CERTIFICATE_ARN="${CERTIFICATE_ARN:-$(tf_output_or_empty route53 certificate_arn)}"
DASHBOARD_ORIGIN="https://$(tf_output terraform dashboard_host)"
COGNITO_USER_POOL_ARN="$(tf_output terraform cognito_user_pool_arn)"
COGNITO_CLIENT_ID="$(tf_output terraform cognito_client_id)"
COGNITO_DOMAIN="$(tf_output terraform cognito_domain)"
export AWS_REGION AWS_ACCOUNT_ID CLUSTER_NAME ECR_REGISTRY IMAGE_TAG S3_BUCKET TEST_SOURCE_BUCKET \
  SQS_QUEUE_URL SQS_DLQ_URL MAX_RECEIVE_COUNT EVENTS_TOPIC_ARN WORKER_ROLE_ARN API_ROLE_ARN \
  ADOT_COLLECTOR_ROLE_ARN POD_LOG_GROUP CERTIFICATE_ARN DASHBOARD_ORIGIN COGNITO_USER_POOL_ARN \
  COGNITO_CLIENT_ID COGNITO_DOMAIN

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT

log "rendering k8s/ for image tag $IMAGE_TAG"
node "$REPO_ROOT/packages/infra-check/src/render-cli.ts" >"$rendered"

log "applying the namespace"
kubectl apply -f "$REPO_ROOT/k8s/namespace.yaml"

if [[ -n "${ADMIN_TOKEN:-}" ]]; then
  log "storing the admin token in Secret thumbnail-admin"
  kubectl -n "$NAMESPACE" create secret generic thumbnail-admin \
    --from-literal=ADMIN_TOKEN="$ADMIN_TOKEN" --dry-run=client -o yaml | kubectl apply -f -
elif ! kubectl -n "$NAMESPACE" get secret thumbnail-admin >/dev/null 2>&1; then
  die "ADMIN_TOKEN is not set and Secret thumbnail-admin does not exist yet"
fi

if [[ -n "${OIDC_ISSUER:-}" ]]; then
  require_env OIDC_CLIENT_ID OIDC_CLIENT_SECRET
  log "storing the OpenID Connect client in Secret thumbnail-oidc (read by the load balancer controller)"
  kubectl -n "$NAMESPACE" create secret generic thumbnail-oidc \
    --from-literal=clientID="$OIDC_CLIENT_ID" --from-literal=clientSecret="$OIDC_CLIENT_SECRET" \
    --dry-run=client -o yaml | kubectl apply -f -
fi

log "applying the manifests"
kubectl apply -f "$rendered"

log "waiting for the rollout"
for deployment in thumbnail-api thumbnail-web; do
  kubectl -n "$NAMESPACE" rollout status "deployment/$deployment" --timeout=10m
done
# The worker may rightly be at 0 replicas (empty queue): check that its template is accepted, not that pods run.
kubectl -n "$NAMESPACE" get scaledobject thumbnail-worker

log "waiting for the ALB address"
address=""
for _ in $(seq 1 60); do
  address="$(kubectl -n "$NAMESPACE" get ingress thumbnail-pipeline \
    -o jsonpath='{.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)"
  [[ -n "$address" ]] && break
  sleep 10
done
[[ -n "$address" ]] || die "the Ingress got no ALB address in 10 minutes (kubectl -n kube-system logs deployment/aws-load-balancer-controller)"
log "deployed: $DASHBOARD_ORIGIN (point its DNS at $address: route53 step 2, or your own CNAME)"
