output "bucket_name" {
  description = "S3_BUCKET"
  value       = aws_s3_bucket.archive.id
}

output "bucket_arn" {
  description = "ARN of the archive bucket."
  value       = aws_s3_bucket.archive.arn
}

output "bucket_region" {
  description = "S3_REGION / AWS_REGION"
  value       = aws_s3_bucket.archive.region
}

output "kms_key_arn" {
  description = "S3_SSE_KMS_KEY_ID (with S3_SSE=aws:kms), if the app should name the key explicitly."
  value       = local.kms_key_arn
}

output "worker_policy_arn" {
  description = "IAM policy for the worker (and the ops CLI run with the worker's identity)."
  value       = aws_iam_policy.worker.arn
}

output "auditor_policy_arn" {
  description = "Read-only IAM policy for `archiver verify` / `archiver report`."
  value       = aws_iam_policy.auditor.arn
}

output "archiver_env" {
  description = "The archiver settings that follow from this bucket."
  value = {
    S3_BUCKET           = aws_s3_bucket.archive.id
    S3_PREFIX           = var.s3_prefix
    S3_REGION           = aws_s3_bucket.archive.region
    S3_SSE              = "aws:kms"
    S3_SSE_KMS_KEY_ID   = local.kms_key_arn
    S3_OBJECT_LOCK_MODE = var.object_lock_mode
    S3_OBJECT_LOCK_DAYS = tostring(var.object_lock_days)
  }
}
