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

  # A file no retry can fix (not a video, corrupt, too large) goes to the DLQ at its first attempt.
  statement {
    sid       = "DeadLetterPoison"
    actions   = ["sqs:SendMessage"]
    resources = [module.queues.dlq_arn]
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

  # A success removes the failure record of an earlier attempt; a deleted video takes its results with it.
  statement {
    sid       = "ClearResults"
    actions   = ["s3:DeleteObject"]
    resources = ["${local.bucket_arn}/thumbnails/*", "${local.bucket_arn}/failures/*"]
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

  # A message move task receives and deletes the DLQ's messages with the caller's rights (the API never
  # receives them itself: the dead letters it lists come from the failure records).
  statement {
    sid       = "RedriveDeadLetters"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [module.queues.dlq_arn]
  }

  # Redrive and backfill send jobs to the work queue (a message move task sends with the caller's rights).
  statement {
    sid       = "RedriveIntoWorkQueue"
    actions   = ["sqs:SendMessage"]
    resources = [module.queues.queue_arn]
  }

  # SQS's own redrive (a message move task) also receives, deletes and reads the attributes of the DLQ,
  # which RedriveDeadLetters and ReadQueues grant.
  statement {
    sid       = "MoveDeadLetters"
    actions   = ["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask"]
    resources = [module.queues.dlq_arn]
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
      # The heartbeat tag, and the reaper that reads it to delete the queues of replicas that died unannounced.
      "sqs:TagQueue",
      "sqs:ListQueueTags",
    ]
    resources = [local.api_queue_arn_pattern]
  }

  statement {
    sid       = "EventsTopic"
    actions   = ["sns:Subscribe", "sns:Unsubscribe", "sns:Publish", "sns:ListSubscriptionsByTopic"]
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

  # The backfill sweep's lease: one replica sweeps at a time (conditional writes on one object).
  statement {
    sid       = "BackfillLease"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.bucket_arn}/leases/*"]
  }

  # Presigned single PUTs and the dashboard's multipart uploads (s3:PutObject covers CreateMultipartUpload,
  # UploadPart and CompleteMultipartUpload; resuming lists an upload's parts, cancelling aborts it).
  statement {
    sid       = "CreateUploads"
    actions   = ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
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

  permissions_boundary_arn = local.permissions_boundary_arn

  name              = "${var.project}-worker"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.worker.namespace
  service_account   = local.service_accounts.worker.name
  policy_json       = data.aws_iam_policy_document.worker.json
}

module "api_role" {
  source = "./modules/irsa_role"

  permissions_boundary_arn = local.permissions_boundary_arn

  name              = "${var.project}-api"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.api.namespace
  service_account   = local.service_accounts.api.name
  policy_json       = data.aws_iam_policy_document.api.json
}

module "keda_role" {
  source = "./modules/irsa_role"

  permissions_boundary_arn = local.permissions_boundary_arn

  name              = "${var.project}-keda"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.keda.namespace
  service_account   = local.service_accounts.keda.name
  policy_json       = data.aws_iam_policy_document.keda.json
}

module "load_balancer_controller_role" {
  source = "./modules/irsa_role"

  permissions_boundary_arn = local.permissions_boundary_arn

  name              = "${var.project}-aws-load-balancer-controller"
  oidc_provider_arn = module.cluster.oidc_provider_arn
  oidc_issuer       = module.cluster.oidc_issuer
  namespace         = local.service_accounts.load_balancer_controller.namespace
  service_account   = local.service_accounts.load_balancer_controller.name
  policy_json       = local.load_balancer_controller_policy
}

# Container Insights on Fargate: the ADOT collector (k8s/container-insights.yaml) scrapes each pod's cAdvisor
# metrics through the API server and writes them as embedded metric format logs. The managed
# amazon-cloudwatch-observability add-on is not used: its agents are DaemonSets, which Fargate cannot run.
module "adot_collector_role" {
  source = "./modules/irsa_role"

  permissions_boundary_arn = local.permissions_boundary_arn

  name                = "${var.project}-adot-collector"
  oidc_provider_arn   = module.cluster.oidc_provider_arn
  oidc_issuer         = module.cluster.oidc_issuer
  namespace           = local.service_accounts.adot_collector.namespace
  service_account     = local.service_accounts.adot_collector.name
  managed_policy_arns = ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"]
}

# The collector's log group, made here so it has a retention and goes with terraform destroy.
resource "aws_cloudwatch_log_group" "container_insights" {
  name              = "/aws/containerinsights/${module.cluster.name}/performance"
  retention_in_days = 30
}
