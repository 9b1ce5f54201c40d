# GitHub Actions signs in with OIDC: no AWS keys are stored in the repository's secrets.

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # IAM trusts GitHub's certificate authority directly; the thumbprint is required by the API but unused.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

data "aws_iam_policy_document" "github_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
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
  name                 = "thumbnail-github-actions"
  assume_role_policy   = data.aws_iam_policy_document.github_trust.json
  max_session_duration = 7200
}

# The deploy role builds the whole stack (VPC, EKS, IAM roles, queues, buckets, images, DNS, alarms), so it needs
# broad rights on those services; it is limited to them, and to this repository's main branch above.
data "aws_iam_policy_document" "deploy" {
  statement {
    sid = "ProvisionPipeline"
    actions = [
      "ec2:*",
      "ecr:*",
      "eks:*",
      "iam:*",
      "sqs:*",
      "sns:*",
      "s3:*",
      "elasticloadbalancing:*",
      "acm:*",
      "route53:*",
      "cloudwatch:*",
      "logs:*",
      "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "github_actions" {
  name   = "deploy-thumbnail-pipeline"
  role   = aws_iam_role.github_actions.id
  policy = data.aws_iam_policy_document.deploy.json
}
