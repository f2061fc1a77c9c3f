# Least-privilege policies. Attach them to roles (IRSA / EKS Pod Identity / instance
# profile) via worker_role_names / auditor_role_names, or use the outputs elsewhere.

locals {
  # ListBucket confined to the prefix when there is one. "IfExists": requests that carry no
  # prefix at all must still pass, because S3 checks s3:ListBucket without one for
  # HeadBucket (e.g. a readiness check) and to answer 404 rather than 403 for a missing key
  # (existence checks before writing or verifying); listings with a prefix stay inside it.
  list_prefix_condition = var.s3_prefix == "" ? [] : [var.s3_prefix, "${var.s3_prefix}*"]
  kms_via_s3            = "s3.${aws_s3_bucket.archive.region}.amazonaws.com"
}

# Worker (and the ops CLI run with the worker's identity: status, retry-failed, quarantine,
# backfill): writes files and sidecars, reads them back, cleans up failed multipart uploads.
data "aws_iam_policy_document" "worker" {
  statement {
    sid = "ArchiveObjects"
    actions = concat(
      [
        "s3:PutObject",
        "s3:GetObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        # Objects written into a held chat carry the legal hold header; `archiver hold`
        # sets and clears it on the objects already there.
        "s3:PutObjectLegalHold",
      ],
      var.worker_can_set_retention ? ["s3:PutObjectRetention"] : [],
    )
    resources = [local.objects_arn]
  }

  statement {
    sid       = "ListArchivePrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    dynamic "condition" {
      for_each = length(local.list_prefix_condition) == 0 ? [] : [local.list_prefix_condition]
      content {
        test     = "StringLikeIfExists"
        variable = "s3:prefix"
        values   = condition.value
      }
    }
  }

  # `archiver hold` first asks whether the bucket has Object Lock at all.
  statement {
    sid       = "ReadObjectLockConfiguration"
    actions   = ["s3:GetBucketObjectLockConfiguration"]
    resources = [local.bucket_arn]
  }

  # SSE-KMS: a data key to encrypt each upload, Decrypt for multipart completion and reads.
  statement {
    sid       = "UseArchiveKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

resource "aws_iam_policy" "worker" {
  name        = "${var.name_prefix}-worker"
  description = "greenapi-archiver worker: write archived files and sidecars to s3://${var.bucket_name}/${var.s3_prefix}"
  policy      = data.aws_iam_policy_document.worker.json
  tags        = local.tags
}

resource "aws_iam_role_policy_attachment" "worker" {
  for_each   = toset(var.worker_role_names)
  role       = each.value
  policy_arn = aws_iam_policy.worker.arn
}

# Auditor: read-only, for `archiver verify` (re-hash objects against their sidecars) and
# `archiver report`; also sees versions, retention and legal holds.
data "aws_iam_policy_document" "auditor" {
  statement {
    sid = "ReadArchiveObjects"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:GetObjectAttributes",
      "s3:GetObjectVersionAttributes",
      "s3:GetObjectRetention",
      "s3:GetObjectLegalHold",
    ]
    resources = [local.objects_arn]
  }

  statement {
    sid       = "ListArchivePrefix"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [local.bucket_arn]

    dynamic "condition" {
      for_each = length(local.list_prefix_condition) == 0 ? [] : [local.list_prefix_condition]
      content {
        test     = "StringLikeIfExists"
        variable = "s3:prefix"
        values   = condition.value
      }
    }
  }

  statement {
    sid = "ReadBucketSettings"
    actions = [
      "s3:GetBucketVersioning",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
    ]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "DecryptArchive"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kms_via_s3]
    }
  }
}

resource "aws_iam_policy" "auditor" {
  name        = "${var.name_prefix}-auditor"
  description = "greenapi-archiver auditor: read-only access to s3://${var.bucket_name}/${var.s3_prefix}"
  policy      = data.aws_iam_policy_document.auditor.json
  tags        = local.tags
}

resource "aws_iam_role_policy_attachment" "auditor" {
  for_each   = toset(var.auditor_role_names)
  role       = each.value
  policy_arn = aws_iam_policy.auditor.arn
}
