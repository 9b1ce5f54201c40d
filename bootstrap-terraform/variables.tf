variable "region" {
  type    = string
  default = "us-east-1"
}

variable "state_bucket" {
  description = "Existing S3 bucket holding the Terraform state of every stack."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows may assume the deploy role."
  type        = string
}

variable "github_branches" {
  description = "Branches whose workflow runs may deploy."
  type        = list(string)
  default     = ["main"]
}

variable "repositories" {
  description = "ECR repositories, one per image."
  type        = list(string)
  default     = ["thumbnail-api", "thumbnail-worker", "thumbnail-web"]
}

variable "images_to_keep" {
  description = "Tagged images kept per repository; older ones expire."
  type        = number
  default     = 30
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's existing GitHub Actions OIDC provider, if there is one; empty: this stack creates it."
  type        = string
  default     = ""
}
