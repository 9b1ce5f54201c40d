# The AWS Load Balancer Controller's policy is the one its project publishes for the pinned version
# (docs/install/iam_policy.json of v2.13.4, the app version of Helm chart 1.13.4 in
# scripts/install-controllers.sh), copied unchanged: a hand-written one misses what a release adds.
# packages/infra-check/src/terraform.test.ts checks that the copy and the pin agree.
locals {
  load_balancer_controller_policy = file("${path.module}/load_balancer_controller_iam_policy.json")
}
