# The main bucket (uploads/, thumbnails/, failures/) and the bucket of sample videos for Test Pipeline.
# Both private (no ACLs, public access blocked) and encrypted at rest.

variable "bucket_name" {
  type = string
}

variable "test_source_bucket_name" {
  type = string
}

variable "upload_retention_days" {
  type = number
}

variable "upload_allowed_origins" {
  type = list(string)
}

locals {
  buckets = {
    main        = var.bucket_name
    test_source = var.test_source_bucket_name
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket = each.value
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Refuse plain-HTTP access to either bucket.
data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "main" {
  bucket = aws_s3_bucket.this["main"].id

  rule {
    id     = "expire-uploads"
    status = "Enabled"
    filter {
      prefix = "uploads/"
    }
    expiration {
      days = var.upload_retention_days
    }
  }

  rule {
    id     = "expire-failure-records"
    status = "Enabled"
    filter {
      prefix = "failures/"
    }
    expiration {
      days = var.upload_retention_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# The dashboard uploads straight to S3 with presigned PUT URLs from the browser.
resource "aws_s3_bucket_cors_configuration" "main" {
  bucket = aws_s3_bucket.this["main"].id

  cors_rule {
    allowed_methods = ["PUT"]
    allowed_origins = var.upload_allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

output "bucket_id" {
  value = aws_s3_bucket.this["main"].id
}

output "bucket_arn" {
  value = aws_s3_bucket.this["main"].arn
}

output "test_source_bucket_id" {
  value = aws_s3_bucket.this["test_source"].id
}

output "test_source_bucket_arn" {
  value = aws_s3_bucket.this["test_source"].arn
}
