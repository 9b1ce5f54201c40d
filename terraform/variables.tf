variable "region" {
  description = "AWS region for every resource of the pipeline."
  type        = string
  default     = "us-east-1"
}

variable "project" {
  description = "Name prefix for shared resources (cluster, roles, alarms)."
  type        = string
  default     = "thumbnail"
}

variable "bucket_name" {
  description = "Main bucket: uploads/, thumbnails/ and failures/. Bucket names are global, so set it per account."
  type        = string
}

variable "test_source_bucket_name" {
  description = "Bucket holding the sample videos that the dashboard's Test Pipeline button copies into uploads/."
  type        = string
}

variable "queue_name" {
  description = "Work queue fed by the upload notifications (its dead-letter queue is <name>-dlq)."
  type        = string
  default     = "thumbnail-jobs"
}

variable "events_topic_name" {
  description = "SNS topic of the pipeline's job events."
  type        = string
  default     = "thumbnail-events"
}

variable "namespace" {
  description = "Kubernetes namespace of the application (service accounts are bound to it)."
  type        = string
  default     = "thumbnail-pipeline"
}

variable "cluster_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "upload_retention_days" {
  description = "Days an uploaded video is kept before S3 expires it (its thumbnails stay)."
  type        = number
  default     = 30
}

variable "upload_allowed_origins" {
  description = "Origins allowed to PUT presigned uploads from the browser (the dashboard's URL)."
  type        = list(string)
  default     = ["*"]
}

variable "max_receive_count" {
  description = "Deliveries of a job before SQS moves it to the dead-letter queue."
  type        = number
  default     = 3
}

variable "admin_principal_arns" {
  description = "IAM users or roles (people, not the GitHub Actions role, which created the cluster) given cluster-admin through EKS access entries, e.g. [\"arn:aws:iam::123456789012:role/Admin\"]."
  type        = list(string)
  default     = []
}

variable "dashboard_host" {
  description = "Host name of the dashboard (e.g. thumbnail.example.com): its certificate comes from route53/ or is yours, and sign-in returns to it."
  type        = string
}

variable "oidc_issuer" {
  description = "Issuer of your own OpenID Connect provider for viewers' sign-in; empty: Terraform creates a Cognito user pool instead."
  type        = string
  default     = ""
}

variable "permissions_boundary_name" {
  description = "Managed policy (bootstrap-terraform) set as the permissions boundary of every role of this stack."
  type        = string
  default     = "thumbnail-permissions-boundary"
}
