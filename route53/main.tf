# DNS and TLS for the dashboard's host, thumbnail.<domain>, without touching the domain itself:
#   - parent_zone_id set (the domain is already a Route53 zone): records go into that zone;
#   - otherwise a zone for thumbnail.<domain> only, delegated from the parent: add its four NS records to
#     the parent zone wherever the domain's DNS is hosted. The domain's own name servers stay as they are.
# Steps: 0 the delegated zone (print its name servers; skip with parent_zone_id), 1 the certificate,
# validated before the first deploy so the ALB serves HTTPS from the start, 2 (after deploy-k8s) the alias
# record to the ALB. Teardown goes back to step 1 before the ALB is deleted (step 2 reads the ALB).

locals {
  fqdn        = "${var.subdomain}.${var.domain_name}"
  delegated   = var.parent_zone_id == "" ? 1 : 0
  zone_id     = var.parent_zone_id == "" ? aws_route53_zone.dashboard[0].zone_id : var.parent_zone_id
  certificate = var.step >= 1 ? 1 : 0
  alias       = var.step >= 2 ? 1 : 0
}

resource "aws_route53_zone" "dashboard" {
  count = local.delegated

  name = local.fqdn
}

resource "aws_acm_certificate" "dashboard" {
  count = local.certificate

  domain_name       = local.fqdn
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for option in flatten(aws_acm_certificate.dashboard[*].domain_validation_options) : option.domain_name => option
  }

  zone_id         = local.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "dashboard" {
  count = local.certificate

  certificate_arn         = aws_acm_certificate.dashboard[0].arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]

  timeouts {
    create = "45m"
  }
}

data "aws_lb" "ingress" {
  count = local.alias

  name = var.load_balancer_name
}

resource "aws_route53_record" "dashboard" {
  count = local.alias

  zone_id = local.zone_id
  name    = local.fqdn
  type    = "A"

  alias {
    name                   = data.aws_lb.ingress[0].dns_name
    zone_id                = data.aws_lb.ingress[0].zone_id
    evaluate_target_health = true
  }
}

# Earlier versions made a zone for the whole domain and had the registrar point at it. It is forgotten, not
# deleted: the domain's DNS may still depend on it (delete it yourself once the registrar points elsewhere).
removed {
  from = aws_route53_zone.this

  lifecycle {
    destroy = false
  }
}

moved {
  from = aws_acm_certificate.dashboard
  to   = aws_acm_certificate.dashboard[0]
}
