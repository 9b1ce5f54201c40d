output "alerts_topic_arn" {
  value = aws_sns_topic.alerts.arn
}

output "alarm_names" {
  value = sort(keys(aws_cloudwatch_metric_alarm.this))
}
