# The six alarms of the pipeline, all e-mailed through one SNS topic. Apply after the ALB exists
# (after deploy-k8s), since the load balancer alarms need its identity; for the same reason teardown
# destroys this stack before it deletes the ALB (terraform-destroy.yml).

data "aws_lb" "ingress" {
  name = var.load_balancer_name
}

resource "aws_sns_topic" "alerts" {
  name = "thumbnail-alerts"
}

resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

locals {
  dlq      = { QueueName = var.dlq_name }
  alb      = { LoadBalancer = data.aws_lb.ingress.arn_suffix }
  sqs      = "AWS/SQS"
  alb_name = "AWS/ApplicationELB"

  alarms = {
    "thumbnail-dlq-not-empty" = {
      description = "A job reached the dead-letter queue: the worker failed it maxReceiveCount times."
      namespace   = local.sqs
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = local.dlq
      statistic   = "Maximum"
      threshold   = 0
      periods     = 1
    }
    # The DLQ keeps a message 14 days (SQS's maximum): past 7 days, redrive or lose it.
    "thumbnail-dlq-message-age" = {
      description = "A dead-lettered job has waited more than 7 days, half of the DLQ's 14-day retention: redrive it before SQS deletes it."
      namespace   = local.sqs
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = local.dlq
      statistic   = "Maximum"
      threshold   = 7 * 24 * 3600
      periods     = 1
    }
    "thumbnail-elb-5xx-errors" = {
      description = "The load balancer itself answered 5xx (no healthy target, timeouts)."
      namespace   = local.alb_name
      metric      = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb
      statistic   = "Sum"
      threshold   = 0
      periods     = 1
    }
    "thumbnail-target-5xx-errors" = {
      description = "The api or web pods answered 5xx."
      namespace   = local.alb_name
      metric      = "HTTPCode_Target_5XX_Count"
      dimensions  = local.alb
      statistic   = "Sum"
      threshold   = 0
      periods     = 1
    }
    "thumbnail-target-response-time" = {
      description = "Average response time above 2 s for 2 consecutive minutes."
      namespace   = local.alb_name
      metric      = "TargetResponseTime"
      dimensions  = local.alb
      statistic   = "Average"
      threshold   = 2
      periods     = 2
    }
    "thumbnail-active-connection-count" = {
      description = "More than 500 concurrent connections: an unexpected traffic spike."
      namespace   = local.alb_name
      metric      = "ActiveConnectionCount"
      dimensions  = local.alb
      statistic   = "Sum"
      threshold   = 500
      periods     = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.key
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  # No data means no traffic or an empty queue, which is healthy.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.alerts.arn]
  ok_actions         = [aws_sns_topic.alerts.arn]
}
