export * from './fake-greenapi/index.js';
export type { TestkitProvided } from './provided.js';
export {
  startRedis,
  pingRedis,
  type RedisService,
  type StartRedisOptions,
} from './services/redis.js';
export {
  startRedisCluster,
  redisClusterUnavailable,
  type RedisClusterService,
} from './services/redis-cluster.js';
export { hasContainerRuntime, freePort, type ServiceRuntime } from './services/runtime.js';
export {
  startS3,
  s3ClientConfig,
  listAllKeys,
  getObjectBytes,
  listMultipartUploads,
  type S3Connection,
  type S3Service,
  type StartS3Options,
  type MultipartUploadInfo,
} from './services/s3-service.js';
export { startLocalS3, S3RVER_CREDENTIALS, type LocalS3 } from './services/s3rver-local.js';
export { startS3Proxy, type S3Proxy } from './services/s3-proxy.js';
export {
  startObjectLockProxy,
  versionKey,
  type ObjectLockProxy,
  type ObjectVersion,
  type RecordedRequest,
} from './services/object-lock-proxy.js';
export { unzip } from './unzip.js';
