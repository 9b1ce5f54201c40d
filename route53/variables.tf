variable "region" {
  description = "Region of the ALB; the certificate must be in the same region to be used by it."
  type        = string
  default     = "us-east-1"
}

variable "domain_name" {
  description = "Root domain registered elsewhere (e.g. example.com); its name servers are pointed at this zone."
  type        = string
}

variable "subdomain" {
  description = "Host of the dashboard under the domain."
  type        = string
  default     = "thumbnail"
}

variable "step" {
  description = "1: zone, certificate and validation records. 2 (after the NS records are delegated): wait for validation, alias record to the ALB."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.step)
    error_message = "step must be 1 or 2."
  }
}

variable "load_balancer_name" {
  description = "Name of the ALB that the load balancer controller creates for the Ingress (k8s/ingress.yaml)."
  type        = string
  default     = "thumbnail-pipeline"
}
