variable "region" {
  type    = string
  default = "us-east-1"
}

variable "alert_email" {
  description = "Receives every alarm (confirm the subscription e-mail SNS sends)."
  type        = string
}

variable "dlq_name" {
  type    = string
  default = "thumbnail-jobs-dlq"
}

variable "load_balancer_name" {
  description = "Name of the ALB that the load balancer controller creates for the Ingress (k8s/ingress.yaml)."
  type        = string
  default     = "thumbnail-pipeline"
}
