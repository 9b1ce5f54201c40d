output "name_servers" {
  description = "Delegated zone only: add these as the NS record of thumbnail.<domain> in the parent zone (step 0)."
  value       = local.delegated == 1 ? aws_route53_zone.dashboard[0].name_servers : []
}

output "certificate_arn" {
  description = "Validated certificate for the Ingress (from step 1; empty before)."
  value       = local.certificate == 1 ? aws_acm_certificate_validation.dashboard[0].certificate_arn : ""
}

output "dashboard_host" {
  value = local.fqdn
}

output "dashboard_url" {
  value = "https://${local.fqdn}"
}
