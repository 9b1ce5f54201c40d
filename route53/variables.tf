variable "region" {
  description = "Region of the ALB; the certificate must be in the same region to be used by it."
  type        = string
  default     = "us-east-1"
}

variable "domain_name" {
  description = "Your domain (e.g. example.com). Only thumbnail.<domain> is managed here, never the domain's own name servers."
  type        = string
}

variable "subdomain" {
  description = "Host of the dashboard under the domain."
  type        = string
  default     = "thumbnail"
}

variable "parent_zone_id" {
  description = "Route53 zone of the domain, when it has one: records go there. Empty: a delegated zone for the host alone."
  type        = string
  default     = ""
}

variable "step" {
  description = "0: delegated zone only. 1: and the validated certificate (before deploy-k8s). 2: and the alias record to the ALB (after it exists)."
  type        = number
  default     = 1

  validation {
    condition     = contains([0, 1, 2], var.step)
    error_message = "step must be 0, 1 or 2."
  }
}

variable "load_balancer_name" {
  description = "Name of the ALB that the load balancer controller creates for the Ingress (k8s/ingress.yaml)."
  type        = string
  default     = "thumbnail-pipeline"
}
