# GitHub Actions signs in with OIDC: no AWS keys are stored in the repository's secrets.

# An account has at most one provider for GitHub's issuer: when another project made it already, pass its
# ARN (aws iam list-open-id-connect-providers) instead of creating a second one, which IAM refuses.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == "" ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # IAM trusts GitHub's certificate authority directly; the thumbprint is required by the API but unused.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

locals {
  account_id               = data.aws_caller_identity.current.account_id
  github_oidc_provider_arn = var.github_oidc_provider_arn == "" ? aws_iam_openid_connect_provider.github[0].arn : var.github_oidc_provider_arn
  deploy_role_name         = "thumbnail-github-actions"
  boundary_name            = "thumbnail-permissions-boundary"
  boundary_arn             = "arn:aws:iam::${local.account_id}:policy/${local.boundary_name}"
  project_roles            = "arn:aws:iam::${local.account_id}:role/thumbnail-*"
  deploy_role_arn          = "arn:aws:iam::${local.account_id}:role/${local.deploy_role_name}"
}

data "aws_iam_policy_document" "github_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [for branch in var.github_branches : "repo:${var.github_repository}:ref:refs/heads/${branch}"]
    }
  }
}

resource "aws_iam_role" "github_actions" {
  name                 = local.deploy_role_name
  assume_role_policy   = data.aws_iam_policy_document.github_trust.json
  max_session_duration = 7200
}

# What any role the deploy role creates can ever do (terraform/ sets it on every role): the services the
# pipeline runs on, and no IAM changes. A role made by the deploy role therefore cannot be a way to admin.
data "aws_iam_policy_document" "boundary" {
  statement {
    sid = "PipelineServices"
    actions = [
      "ec2:*",
      "ecr:*",
      "eks:*",
      "sqs:*",
      "sns:*",
      "s3:*",
      "elasticloadbalancing:*",
      "acm:DescribeCertificate",
      "acm:ListCertificates",
      "cloudwatch:*",
      "logs:*",
      # AmazonEKSClusterPolicy, CloudWatchAgentServerPolicy and the load balancer controller's policy.
      "autoscaling:Describe*",
      "autoscaling:UpdateAutoScalingGroup",
      "kms:CreateGrant",
      "kms:DescribeKey",
      "ssm:GetParameter",
      "cognito-idp:DescribeUserPoolClient",
      "waf-regional:GetWebACL",
      "waf-regional:GetWebACLForResource",
      "waf-regional:AssociateWebACL",
      "waf-regional:DisassociateWebACL",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:AssociateWebACL",
      "wafv2:DisassociateWebACL",
      "shield:GetSubscriptionState",
      "shield:DescribeProtection",
      "shield:CreateProtection",
      "shield:DeleteProtection",
      "iam:CreateServiceLinkedRole",
      "iam:GetServerCertificate",
      "iam:ListServerCertificates",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name   = local.boundary_name
  policy = data.aws_iam_policy_document.boundary.json
}

# The deploy role builds the whole stack (VPC, EKS, IAM roles, queues, buckets, images, DNS, sign-in,
# alarms). IAM is where a deploy role could make itself admin, so there it may only manage thumbnail-*
# roles that carry the permissions boundary above, pass them only to EKS, and never change itself or the
# boundary. Changes to this stack (the role itself) are applied from an administrator's workstation.
data "aws_iam_policy_document" "deploy" {
  statement {
    sid = "ProvisionPipeline"
    actions = [
      "ec2:*",
      "ecr:*",
      "eks:*",
      "sqs:*",
      "sns:*",
      "s3:*",
      "elasticloadbalancing:*",
      "acm:*",
      "route53:*",
      "cloudwatch:*",
      "logs:*",
      "cognito-idp:*",
      "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ReadIam"
    actions   = ["iam:Get*", "iam:List*"]
    resources = ["*"]
  }

  statement {
    sid = "ProjectRolesWithBoundary"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = [local.project_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }

  statement {
    sid = "ProjectRoles"
    actions = [
      "iam:DeleteRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
    ]
    resources = [local.project_roles]
  }

  statement {
    sid       = "PassProjectRolesToEks"
    actions   = ["iam:PassRole"]
    resources = [local.project_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["eks.amazonaws.com", "eks-fargate-pods.amazonaws.com"]
    }
  }

  statement {
    sid = "ClusterOidcProviders"
    actions = [
      "iam:CreateOpenIDConnectProvider",
      "iam:DeleteOpenIDConnectProvider",
      "iam:TagOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ]
    resources = ["arn:aws:iam::${local.account_id}:oidc-provider/oidc.eks.*"]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["eks.amazonaws.com", "eks-fargate.amazonaws.com", "elasticloadbalancing.amazonaws.com"]
    }
  }

  # thumbnail-* matches the deploy role's own name: an explicit deny keeps it from rewriting itself.
  statement {
    sid         = "NotItselfNorTheBoundary"
    effect      = "Deny"
    not_actions = ["iam:Get*", "iam:List*"]
    resources   = [local.deploy_role_arn, local.boundary_arn]
  }

  statement {
    sid       = "KeepBoundaries"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "github_actions" {
  name   = "deploy-thumbnail-pipeline"
  role   = aws_iam_role.github_actions.id
  policy = data.aws_iam_policy_document.deploy.json
}

# The provider became optional (count): the one already in the state is kept, not replaced.
moved {
  from = aws_iam_openid_connect_provider.github
  to   = aws_iam_openid_connect_provider.github[0]
}
