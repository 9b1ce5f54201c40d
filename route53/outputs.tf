output "name_servers" {
  description = "Set these four as the domain's custom name servers at the registrar (step 1)."
  value       = aws_route53_zone.this.name_servers
}

output "certificate_arn" {
  description = "Validated certificate for the Ingress (step 2; empty before)."
  value       = local.second_step == 1 ? aws_acm_certificate_validation.dashboard[0].certificate_arn : ""
}

output "dashboard_url" {
  value = "https://${local.fqdn}"
}
