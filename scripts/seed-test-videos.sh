#!/usr/bin/env bash
# Puts a few short sample videos (made here with ffmpeg, several formats) in the test source bucket that
# the dashboard's Test Pipeline button copies from. Safe to rerun.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_commands aws ffmpeg terraform

bucket="$(tf_output terraform test_source_bucket_name)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "generating sample videos"
ffmpeg -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 -t 6 -pix_fmt yuv420p "$work/testsrc.mp4"
ffmpeg -loglevel error -f lavfi -i smptebars=size=640x360:rate=25 -t 6 "$work/bars.mov"
ffmpeg -loglevel error -f lavfi -i mandelbrot=size=640x360:rate=25 -t 6 -c:v libvpx-vp9 -b:v 500k "$work/mandelbrot.webm"
ffmpeg -loglevel error -f lavfi -i rgbtestsrc=size=640x360:rate=25 -t 6 "$work/rgb.mkv"

log "uploading to s3://$bucket"
aws s3 cp "$work" "s3://$bucket/" --recursive --exclude '*' --include '*.mp4' --include '*.mov' \
  --include '*.webm' --include '*.mkv'
log "sample videos ready"
