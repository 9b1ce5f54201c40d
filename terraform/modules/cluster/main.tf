# EKS with Fargate only: every namespace that runs pods gets a Fargate profile on the private subnets,
# CoreDNS is told to run on Fargate, and the OIDC provider makes IRSA possible.

variable "name" {
  type = string
}

variable "kubernetes_version" {
  type = string
}

variable "subnet_ids" {
  description = "Subnets of the control plane's network interfaces (private and public)."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets where Fargate runs pods."
  type        = list(string)
}

variable "fargate_namespaces" {
  type = list(string)
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "permissions_boundary_arn" {
  type = string
}

variable "admin_principal_arns" {
  description = "IAM principals (besides the creator of the cluster) given cluster-admin through access entries."
  type        = list(string)
  default     = []
}

data "aws_iam_policy_document" "cluster_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name                 = "${var.name}-control-plane"
  assume_role_policy   = data.aws_iam_policy_document.cluster_trust.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
  }

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_eks_access_entry" "admin" {
  for_each = toset(var.admin_principal_arns)

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
}

resource "aws_eks_access_policy_association" "admin" {
  for_each = toset(var.admin_principal_arns)

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  policy_arn    = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }

  depends_on = [aws_eks_access_entry.admin]
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

# Only Fargate profiles of this cluster may use the role (confused-deputy protection, as AWS documents).
data "aws_iam_policy_document" "pod_execution_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks-fargate-pods.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:aws:eks:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:fargateprofile/${var.name}/*"]
    }
  }
}

# Used by Fargate itself to pull images from ECR and ship logs, not by the application.
resource "aws_iam_role" "pod_execution" {
  name                 = "${var.name}-fargate-pods"
  assume_role_policy   = data.aws_iam_policy_document.pod_execution_trust.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy_attachment" "pod_execution" {
  role       = aws_iam_role.pod_execution.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
}

# Fargate's built-in Fluent Bit sends the containers' stdout/stderr here (k8s/aws-observability.yaml).
resource "aws_cloudwatch_log_group" "pods" {
  name              = "/aws/eks/${var.name}/pods"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "pod_logs" {
  statement {
    sid       = "ShipPodLogs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.pods.arn}:*"]
  }
}

resource "aws_iam_role_policy" "pod_logs" {
  name   = "fargate-pod-logs"
  role   = aws_iam_role.pod_execution.id
  policy = data.aws_iam_policy_document.pod_logs.json
}

resource "aws_eks_fargate_profile" "namespace" {
  for_each = toset(var.fargate_namespaces)

  cluster_name           = aws_eks_cluster.this.name
  fargate_profile_name   = each.value
  pod_execution_role_arn = aws_iam_role.pod_execution.arn
  subnet_ids             = var.private_subnet_ids

  selector {
    namespace = each.value
  }

  depends_on = [aws_iam_role_policy_attachment.pod_execution, aws_iam_role_policy.pod_logs]
}

# The managed CoreDNS add-on schedules onto Fargate when asked to (no EC2 nodes exist to run it otherwise).
resource "aws_eks_addon" "coredns" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "coredns"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  configuration_values        = jsonencode({ computeType = "Fargate" })

  depends_on = [aws_eks_fargate_profile.namespace]
}

# Resource metrics for the HPAs of api and web (and the API's pod CPU/memory figures).
resource "aws_eks_addon" "metrics_server" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "metrics-server"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  depends_on = [aws_eks_fargate_profile.namespace]
}

data "tls_certificate" "issuer" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.issuer.certificates[0].sha1_fingerprint]
}

output "name" {
  value = aws_eks_cluster.this.name
}

output "endpoint" {
  value = aws_eks_cluster.this.endpoint
}

output "oidc_provider_arn" {
  value = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  value = replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")
}

output "pod_log_group" {
  value = aws_cloudwatch_log_group.pods.name
}

output "coredns_version" {
  value = aws_eks_addon.coredns.addon_version
}
