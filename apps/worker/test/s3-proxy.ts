// The proxy lives in the testkit so every package's tests can put it in front of S3.
export { startS3Proxy, type S3Proxy } from '@archiver/testkit';
