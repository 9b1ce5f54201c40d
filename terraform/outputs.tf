# Read by scripts/deploy-manifests.sh and scripts/install-controllers.sh (the per-account values of the
# Kubernetes manifests and Helm releases) and the workflows.

output "region" {
  value = var.region
}

output "account_id" {
  value = local.account_id
}

output "cluster_name" {
  value = module.cluster.name
}

output "vpc_id" {
  value = module.network.vpc_id
}

output "namespace" {
  value = var.namespace
}

output "bucket_name" {
  value = module.storage.bucket_id
}

output "test_source_bucket_name" {
  value = module.storage.test_source_bucket_id
}

output "queue_url" {
  value = module.queues.queue_url
}

output "queue_name" {
  value = module.queues.queue_name
}

output "dlq_url" {
  value = module.queues.dlq_url
}

output "dlq_name" {
  value = module.queues.dlq_name
}

output "max_receive_count" {
  value = var.max_receive_count
}

output "events_topic_arn" {
  value = module.events.topic_arn
}

output "worker_role_arn" {
  value = module.worker_role.arn
}

output "api_role_arn" {
  value = module.api_role.arn
}

output "keda_role_arn" {
  value = module.keda_role.arn
}

output "load_balancer_controller_role_arn" {
  value = module.load_balancer_controller_role.arn
}

output "pod_log_group" {
  description = "CloudWatch log group of every pod's stdout/stderr (Fargate logging, k8s/aws-observability.yaml)."
  value       = module.cluster.pod_log_group
}

output "adot_collector_role_arn" {
  value = module.adot_collector_role.arn
}

# Sign-in at the ALB with the Cognito pool (empty when var.oidc_issuer names your own provider).
output "cognito_user_pool_arn" {
  value = local.cognito == 1 ? aws_cognito_user_pool.viewers[0].arn : ""
}

output "cognito_user_pool_id" {
  value = local.cognito == 1 ? aws_cognito_user_pool.viewers[0].id : ""
}

output "cognito_client_id" {
  value = local.cognito == 1 ? aws_cognito_user_pool_client.alb[0].id : ""
}

output "cognito_domain" {
  value = local.cognito == 1 ? aws_cognito_user_pool_domain.viewers[0].domain : ""
}

output "dashboard_host" {
  value = var.dashboard_host
}
