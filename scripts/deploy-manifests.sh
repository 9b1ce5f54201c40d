#!/usr/bin/env bash
# Applies k8s/ with this account's values and waits for the rollout. Safe to rerun.
# Usage: IMAGE_TAG=1.0.5 ADMIN_TOKEN=... scripts/deploy-manifests.sh
#   IMAGE_TAG    tag pushed by build-push (required)
#   ADMIN_TOKEN  token for the dashboard's admin actions; kept in the thumbnail-admin Secret (required the
#                first time; later runs keep the existing Secret when it is unset)
# The certificate and domain come from route53/ once its step 2 is applied: the Ingress then serves HTTPS.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env IMAGE_TAG
require_commands kubectl terraform node

# Every value the manifests take (packages/infra-check/src/manifests.ts, MANIFEST_VALUES).
AWS_REGION="$(tf_output terraform region)"
ECR_REGISTRY="$(tf_output terraform account_id).dkr.ecr.$AWS_REGION.amazonaws.com"
S3_BUCKET="$(tf_output terraform bucket_name)"
TEST_SOURCE_BUCKET="$(tf_output terraform test_source_bucket_name)"
SQS_QUEUE_URL="$(tf_output terraform queue_url)"
SQS_DLQ_URL="$(tf_output terraform dlq_url)"
EVENTS_TOPIC_ARN="$(tf_output terraform events_topic_arn)"
WORKER_ROLE_ARN="$(tf_output terraform worker_role_arn)"
API_ROLE_ARN="$(tf_output terraform api_role_arn)"
CERTIFICATE_ARN="${CERTIFICATE_ARN:-$(tf_output_or_empty route53 certificate_arn)}"
DASHBOARD_ORIGIN="${DASHBOARD_ORIGIN:-}"
if [[ -z "$DASHBOARD_ORIGIN" && -n "$CERTIFICATE_ARN" ]]; then
  DASHBOARD_ORIGIN="$(tf_output_or_empty route53 dashboard_url)"
fi
export AWS_REGION ECR_REGISTRY IMAGE_TAG S3_BUCKET TEST_SOURCE_BUCKET SQS_QUEUE_URL SQS_DLQ_URL \
  EVENTS_TOPIC_ARN WORKER_ROLE_ARN API_ROLE_ARN CERTIFICATE_ARN DASHBOARD_ORIGIN

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT

log "rendering k8s/ for image tag $IMAGE_TAG${CERTIFICATE_ARN:+ with HTTPS}"
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
log "deployed: http://$address${DASHBOARD_ORIGIN:+ (and $DASHBOARD_ORIGIN)}"
