output "github_actions_role_arn" {
  description = "Set as the AWS_ROLE_ARN secret of the repository."
  value       = aws_iam_role.github_actions.arn
}

output "ecr_repository_urls" {
  description = "Set as the ECR_BASE_API / ECR_BASE_WORKER / ECR_BASE_WEB secrets."
  value       = { for name, repository in aws_ecr_repository.image : name => repository.repository_url }
}

output "account_id" {
  value = data.aws_caller_identity.current.account_id
}

output "permissions_boundary_arn" {
  description = "Boundary that terraform/ sets on every role it creates (the deploy role may create no other)."
  value       = aws_iam_policy.boundary.arn
}
