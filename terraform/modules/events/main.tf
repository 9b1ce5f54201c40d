# The events topic: workers and API replicas publish job events; each API replica subscribes its own queue.

variable "name" {
  type = string
}

variable "account_id" {
  type = string
}

variable "region" {
  type = string
}

variable "subscriber_queue_prefix" {
  description = "Name prefix of the per-replica SQS queues that may subscribe."
  type        = string
}

resource "aws_sns_topic" "this" {
  name = var.name
}

# Publishing and subscribing are granted to the pods' roles by IAM; this policy keeps the topic to this
# account and to SQS subscriptions from the API's own queues.
data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountUse"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.account_id}:root"]
    }
  }

  statement {
    sid       = "OnlyApiQueuesSubscribe"
    effect    = "Deny"
    actions   = ["sns:Subscribe"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotLike"
      variable = "sns:Endpoint"
      values   = ["arn:aws:sqs:${var.region}:${var.account_id}:${var.subscriber_queue_prefix}*"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

output "topic_arn" {
  value = aws_sns_topic.this.arn
}
