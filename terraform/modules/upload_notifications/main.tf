# S3 → SQS: every object created under the upload prefix with a video suffix (any case) becomes one job;
# a removal is sent too, so the pipeline can forget a video deleted from the bucket.

variable "bucket_id" {
  type = string
}

variable "queue_arn" {
  type = string
}

variable "prefix" {
  type = string
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = var.bucket_id

  dynamic "queue" {
    for_each = local.video_suffix_variants
    content {
      id            = "video-upload${queue.value}"
      queue_arn     = var.queue_arn
      events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix = var.prefix
      filter_suffix = queue.value
    }
  }
}
