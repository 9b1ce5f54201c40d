# Read by scripts/k8s-values.sh (the per-account values of the Kubernetes manifests) and the workflows.

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
