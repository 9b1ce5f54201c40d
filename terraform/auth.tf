# Viewers of the dashboard sign in at the ALB (k8s/ingress.yaml). Without an OpenID Connect provider of
# your own (var.oidc_issuer), this Cognito user pool is it: no self sign-up, users are created by an
# administrator, and members of the "admins" group may use the admin actions (the API reads the group
# from the ALB's signed identity header).

locals {
  cognito = var.oidc_issuer == "" ? 1 : 0
}

resource "aws_cognito_user_pool" "viewers" {
  count = local.cognito

  name                     = "${var.project}-viewers"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = false
  }
}

# The hosted sign-in page; its prefix is global across AWS, hence the account id.
resource "aws_cognito_user_pool_domain" "viewers" {
  count = local.cognito

  domain       = "${var.project}-${local.account_id}"
  user_pool_id = aws_cognito_user_pool.viewers[0].id
}

# The ALB's client: authorization code flow back to the ALB's fixed callback path on the dashboard's host.
resource "aws_cognito_user_pool_client" "alb" {
  count = local.cognito

  name                                 = "${var.project}-alb"
  user_pool_id                         = aws_cognito_user_pool.viewers[0].id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  callback_urls                        = ["https://${var.dashboard_host}/oauth2/idpresponse"]
  supported_identity_providers         = ["COGNITO"]
}

resource "aws_cognito_user_group" "admins" {
  count = local.cognito

  name         = "admins"
  user_pool_id = aws_cognito_user_pool.viewers[0].id
  description  = "May redrive, upload, run the test pipeline and purge."
}
