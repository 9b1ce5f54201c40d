# DNS and TLS in two steps, because certificate validation can only succeed once the registrar delegates the
# domain to this zone. Step 1 creates the zone, the certificate and its validation records and prints the
# name servers; step 2 waits for the certificate and points the dashboard's host at the ALB.

locals {
  fqdn        = "${var.subdomain}.${var.domain_name}"
  second_step = var.step >= 2 ? 1 : 0
}

resource "aws_route53_zone" "this" {
  name = var.domain_name
}

resource "aws_acm_certificate" "dashboard" {
  domain_name       = local.fqdn
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.dashboard.domain_validation_options : option.domain_name => option
  }

  zone_id         = aws_route53_zone.this.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "dashboard" {
  count = local.second_step

  certificate_arn         = aws_acm_certificate.dashboard.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]

  timeouts {
    create = "30m"
  }
}

data "aws_lb" "ingress" {
  count = local.second_step

  name = var.load_balancer_name
}

resource "aws_route53_record" "dashboard" {
  count = local.second_step

  zone_id = aws_route53_zone.this.zone_id
  name    = local.fqdn
  type    = "A"

  alias {
    name                   = data.aws_lb.ingress[0].dns_name
    zone_id                = data.aws_lb.ingress[0].zone_id
    evaluate_target_health = true
  }
}
