terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.1"
    }
  }

  # Bucket and region come from `terraform init -backend-config=...` (see scripts/tf-init.sh), so the same
  # code serves any account. S3-native locking needs Terraform 1.10+.
  backend "s3" {
    key          = "thumbnail/main.tfstate"
    use_lockfile = true
    encrypt      = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
