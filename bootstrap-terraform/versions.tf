terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # The state bucket itself is created once by scripts/create-state-bucket.sh (a bucket cannot hold the
  # state of the code that creates it); this stack then manages its settings.
  backend "s3" {
    key          = "thumbnail/bootstrap.tfstate"
    use_lockfile = true
    encrypt      = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "thumbnail-pipeline"
      ManagedBy = "terraform"
    }
  }
}
