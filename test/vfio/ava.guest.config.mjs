// ava configuration for the VFIO tests inside the QEMU guest: the compiled tests (built on the host), no cache (the checkout is read-only there).
export default {
  files: ['dist/test/vfio/**/*.test.js'],
  workerThreads: false,
  cache: false,
  concurrency: 1,
  timeout: '90s',
};
