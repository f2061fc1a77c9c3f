variable "bucket_name" {
  description = "Name of the archive bucket (globally unique). Goes into S3_BUCKET."
  type        = string
}

variable "s3_prefix" {
  description = "Key prefix the archiver writes under (S3_PREFIX), e.g. \"greenapi/\". Empty = the whole bucket. IAM and lifecycle rules are scoped to it."
  type        = string
  default     = ""

  validation {
    condition     = var.s3_prefix == "" || endswith(var.s3_prefix, "/")
    error_message = "s3_prefix must be empty or end with \"/\"."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock retention mode: GOVERNANCE (users with s3:BypassGovernanceRetention can still delete) or COMPLIANCE (nobody can, not even root, until the date passes)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "object_lock_days" {
  description = "Default retention in days applied to every new object version (2555 = 7 years)."
  type        = number
  default     = 2555

  validation {
    condition     = var.object_lock_days >= 1 && floor(var.object_lock_days) == var.object_lock_days
    error_message = "object_lock_days must be a whole number of days, at least 1."
  }
}

variable "transition_storage_class" {
  description = "Colder storage class for archived files. GLACIER_IR keeps millisecond reads, so `archiver verify` keeps working; GLACIER / DEEP_ARCHIVE need a restore before any read; STANDARD_IA needs transition_days >= 30."
  type        = string
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.transition_storage_class)
    error_message = "transition_storage_class must be one of STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "transition_days" {
  description = "Days after creation before an object moves to transition_storage_class."
  type        = number
  default     = 30

  validation {
    condition     = var.transition_days >= 0
    error_message = "transition_days must be >= 0."
  }
}

variable "transition_min_object_size" {
  description = "Only objects larger than this many bytes transition. Colder classes bill small objects as 128 KiB, and the message.json sidecars are a few KiB."
  type        = number
  default     = 131072
}

variable "noncurrent_version_expiration_days" {
  description = "Delete noncurrent versions (left by re-archiving the same key) this many days after they become noncurrent. Object Lock still protects them until their retention date. null = keep forever."
  type        = number
  default     = null
}

variable "abort_incomplete_multipart_days" {
  description = "Abort multipart uploads left unfinished (e.g. a worker killed mid-copy) after this many days."
  type        = number
  default     = 7
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SSE-KMS. null = create a dedicated key (with yearly rotation)."
  type        = string
  default     = null
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before a created KMS key is deleted. Deleting the key makes every archived object unreadable."
  type        = number
  default     = 30
}

variable "worker_can_set_retention" {
  description = "Grant the worker s3:PutObjectRetention, needed when it sets per-object retention (S3_OBJECT_LOCK_MODE / S3_OBJECT_LOCK_DAYS). Never grants governance bypass."
  type        = bool
  default     = true
}

variable "worker_role_names" {
  description = "Existing IAM role names (e.g. the worker's IRSA / Pod Identity role) to attach the worker policy to."
  type        = list(string)
  default     = []
}

variable "auditor_role_names" {
  description = "Existing IAM role names to attach the read-only auditor policy to (for `archiver verify` / `archiver report`)."
  type        = list(string)
  default     = []
}

variable "name_prefix" {
  description = "Prefix for the names of IAM policies, the KMS alias, etc."
  type        = string
  default     = "greenapi-archiver"
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}
