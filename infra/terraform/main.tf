# The archive bucket: versioned, Object Lock (WORM) with a default retention, SSE-KMS with a
# bucket key, no public access, TLS only, colder storage after a while.

locals {
  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : one(aws_kms_key.archive[*].arn)
  bucket_arn  = aws_s3_bucket.archive.arn
  # Objects the archiver writes: everything under the prefix.
  objects_arn = "${aws_s3_bucket.archive.arn}/${var.s3_prefix}*"
  tags        = merge({ "app" = "greenapi-archiver" }, var.tags)
}

resource "aws_kms_key" "archive" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "${var.name_prefix}: SSE-KMS for the archive bucket ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  # Default key policy: the account administers the key and IAM policies grant its use
  # (the worker and auditor policies below).
  tags = local.tags
}

resource "aws_kms_alias" "archive" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = "alias/${var.name_prefix}-archive"
  target_key_id = aws_kms_key.archive[0].key_id
}

resource "aws_s3_bucket" "archive" {
  bucket = var.bucket_name
  # Object Lock can only be turned on when the bucket is created.
  object_lock_enabled = true
  # Never let `terraform destroy` empty an archive.
  force_destroy = false
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket                  = aws_s3_bucket.archive.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id
  versioning_configuration {
    # Required by Object Lock; can never be suspended on a lock-enabled bucket.
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.object_lock_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.archive]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    # One data key per bucket instead of one KMS call per object: far fewer KMS requests.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    id     = "transition-to-colder-storage"
    status = "Enabled"

    # Whole bucket: a size filter alone; with a prefix: prefix AND size.
    filter {
      object_size_greater_than = var.s3_prefix == "" ? var.transition_min_object_size : null

      dynamic "and" {
        for_each = var.s3_prefix == "" ? [] : [var.s3_prefix]
        content {
          prefix                   = and.value
          object_size_greater_than = var.transition_min_object_size
        }
      }
    }

    transition {
      days          = var.transition_days
      storage_class = var.transition_storage_class
    }

    noncurrent_version_transition {
      noncurrent_days = var.transition_days
      storage_class   = var.transition_storage_class
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {
      prefix = var.s3_prefix
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  dynamic "rule" {
    for_each = var.noncurrent_version_expiration_days == null ? [] : [var.noncurrent_version_expiration_days]
    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {
        prefix = var.s3_prefix
      }

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.archive]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyTlsOlderThan12"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # Uploads may rely on the bucket default (no header) or ask for SSE-KMS explicitly
  # (S3_SSE); asking for anything else (SSE-S3, another key) is refused.
  statement {
    sid     = "DenyOtherEncryption"
    effect  = "Deny"
    actions = ["s3:PutObject"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = ["${local.bucket_arn}/*"]
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid     = "DenyOtherKmsKey"
    effect  = "Deny"
    actions = ["s3:PutObject"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = ["${local.bucket_arn}/*"]
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [local.kms_key_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = data.aws_iam_policy_document.bucket.json
  # The public access block must exist first, or a policy with "*" principals is rejected.
  depends_on = [aws_s3_bucket_public_access_block.archive]
}
