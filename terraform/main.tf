data "aws_caller_identity" "current" {}

locals {
  cluster_name = "${var.project}-cluster"
  account_id   = data.aws_caller_identity.current.account_id
  # Created by bootstrap-terraform: every role here carries it, the only kind the deploy role may create.
  permissions_boundary_arn = "arn:aws:iam::${local.account_id}:policy/${var.permissions_boundary_name}"

  tags = {
    Project   = "thumbnail-pipeline"
    ManagedBy = "terraform"
  }

  # Service accounts that get an IAM role (IRSA). Their names must match k8s/service-accounts.yaml and the
  # Helm releases in scripts/install-controllers.sh.
  service_accounts = {
    worker                   = { namespace = var.namespace, name = "thumbnail-worker" }
    api                      = { namespace = var.namespace, name = "thumbnail-api" }
    keda                     = { namespace = "keda", name = "keda-operator" }
    load_balancer_controller = { namespace = "kube-system", name = "aws-load-balancer-controller" }
    # k8s/container-insights.yaml: the ADOT collector, Fargate's way to Container Insights metrics.
    adot_collector = { namespace = "fargate-container-insights", name = "adot-collector" }
  }
}

module "network" {
  source = "./modules/network"

  name         = var.project
  cidr         = var.vpc_cidr
  cluster_name = local.cluster_name
}

module "cluster" {
  source = "./modules/cluster"

  name               = local.cluster_name
  kubernetes_version = var.cluster_version
  subnet_ids         = concat(module.network.private_subnet_ids, module.network.public_subnet_ids)
  private_subnet_ids = module.network.private_subnet_ids
  fargate_namespaces = distinct([for sa in local.service_accounts : sa.namespace])

  admin_principal_arns     = var.admin_principal_arns
  permissions_boundary_arn = local.permissions_boundary_arn
}

module "queues" {
  source = "./modules/queues"

  name              = var.queue_name
  max_receive_count = var.max_receive_count
  source_bucket_arn = module.storage.bucket_arn
  account_id        = local.account_id
}

module "storage" {
  source = "./modules/storage"

  bucket_name             = var.bucket_name
  test_source_bucket_name = var.test_source_bucket_name
  upload_retention_days   = var.upload_retention_days
  upload_allowed_origins  = var.upload_allowed_origins
}

module "events" {
  source = "./modules/events"

  name       = var.events_topic_name
  account_id = local.account_id
  region     = var.region
  # Each API replica subscribes its own queue, named with this prefix (see apps/api).
  subscriber_queue_prefix = "thumbnail-api-"
}

module "upload_notifications" {
  source = "./modules/upload_notifications"

  bucket_id = module.storage.bucket_id
  queue_arn = module.queues.queue_arn
  prefix    = "uploads/"

  # S3 checks that it may send to the queue when the notification is created.
  depends_on = [module.queues]
}
