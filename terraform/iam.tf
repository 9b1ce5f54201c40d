# One IAM role per service account (IRSA): pods get short-lived credentials, no static keys anywhere.
# Each policy grants only the calls that part makes, on the resources and key prefixes it touches;
# packages/infra-check/src/iam.test.ts evaluates the rendered documents (packages/iam) against the calls
# each part must be able to make and the ones it must not, and local mode enforces them on every request.

locals {
  bucket_arn             = module.storage.bucket_arn
  test_source_bucket_arn = module.storage.test_source_bucket_arn
  api_queue_arn_pattern  = "arn:aws:sqs:${var.region}:${local.account_id}:thumbnail-api-*"
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "ConsumeJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = [module.queues.queue_arn]
  }

  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/uploads/*", "${local.bucket_arn}/thumbnails/*"]
  }

  # Without ListBucket, S3 answers HEAD/GET of a missing key with 403, not 404 (the worker HEADs new thumbnails).
  statement {
    sid       = "KnowMissingKeys"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "WriteResults"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/thumbnails/*", "${local.bucket_arn}/failures/*"]
  }

  # A success removes the failure record of an earlier attempt.
  statement {
    sid       = "ClearFailureRecords"
    actions   = ["s3:DeleteObject"]
    resources = ["${local.bucket_arn}/failures/*"]
  }

  statement {
    sid       = "PublishEvents"
    actions   = ["sns:Publish"]
    resources = [module.events.topic_arn]
  }
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "ReadQueues"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [module.queues.queue_arn, module.queues.dlq_arn]
  }

  # Listing the DLQ receives its messages and releases them at once; redrive re-sends them to the work
  # queue, then deletes them from the DLQ.
  statement {
    sid       = "InspectAndRedriveDeadLetters"
    actions   = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
    resources = [module.queues.dlq_arn]
  }

  statement {
    sid       = "RedriveIntoWorkQueue"
    actions   = ["sqs:SendMessage"]
    resources = [module.queues.queue_arn]
  }

  statement {
    sid = "OwnReplicaEventQueue"
    actions = [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
    ]
    resources = [local.api_queue_arn_pattern]
  }

  statement {
    sid       = "EventsTopic"
    actions   = ["sns:Subscribe", "sns:Unsubscribe", "sns:Publish"]
    resources = [module.events.topic_arn]
  }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn, local.test_source_bucket_arn]
  }

  statement {
    sid     = "ReadResults"
    actions = ["s3:GetObject"]
    resources = [
      "${local.bucket_arn}/thumbnails/*",
      "${local.bucket_arn}/failures/*",
      "${local.test_source_bucket_arn}/*",
    ]
  }

  statement {
    sid       = "CreateUploads"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/uploads/*"]
  }

  statement {
    sid     = "Purge"
    actions = ["s3:DeleteObject"]
    resources = [
      "${local.bucket_arn}/uploads/*",
      "${local.bucket_arn}/thumbnails/*",
      "${local.bucket_arn}/failures/*",
    ]
  }
}

# KEDA's aws-sqs-queue scaler reads only the queue's message counts.
data "aws_iam_policy_document" "keda" {
  statement {
    sid       = "ReadQueueDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [module.queues.queue_arn]
  }
}

module "worker_role" {
  source = "./modules/irsa_role"

  name              = "${var.project}-worker"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.worker.namespace
  service_account   = local.service_accounts.worker.name
  policy_json       = data.aws_iam_policy_document.worker.json
}

module "api_role" {
  source = "./modules/irsa_role"

  name              = "${var.project}-api"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.api.namespace
  service_account   = local.service_accounts.api.name
  policy_json       = data.aws_iam_policy_document.api.json
}

module "keda_role" {
  source = "./modules/irsa_role"

  name              = "${var.project}-keda"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.keda.namespace
  service_account   = local.service_accounts.keda.name
  policy_json       = data.aws_iam_policy_document.keda.json
}

module "load_balancer_controller_role" {
  source = "./modules/irsa_role"

  name              = "${var.project}-aws-load-balancer-controller"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.load_balancer_controller.namespace
  service_account   = local.service_accounts.load_balancer_controller.name
  policy_json       = data.aws_iam_policy_document.load_balancer_controller.json
}

module "cloudwatch_agent_role" {
  source = "./modules/irsa_role"

  name              = "${var.project}-cloudwatch-agent"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.cloudwatch_agent.namespace
  service_account   = local.service_accounts.cloudwatch_agent.name
  managed_policy_arns = [
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
  ]
}

# Container Insights: the CloudWatch observability add-on, with the agent's own IRSA role.
resource "aws_eks_addon" "container_insights" {
  cluster_name                = module.cluster.name
  addon_name                  = "amazon-cloudwatch-observability"
  service_account_role_arn    = module.cloudwatch_agent_role.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
}
