terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

# Configure the provider (region, credentials, assume_role) in the root module that uses this
# one, or uncomment for a standalone apply:
# provider "aws" {
#   region = "eu-central-1"
# }
