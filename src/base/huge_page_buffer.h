// Anonymous memory backed by transparent huge pages where the kernel offers them (2 MiB pages
// under THP's "madvise" or "always" mode). Kernels that stream through large data (model
// weights) otherwise spend much of their time in TLB misses and lose the hardware prefetcher at
// every 4 KiB page. Pages are committed on first touch, as with plain `new`, and that touch can
// be slow (the kernel may compact memory to find a huge page), so fill such a buffer up front
// (read_file), not on a latency-sensitive path. Contents start zeroed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace pareto {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  // Throws pareto::Error when `bytes` cannot be reserved. Zero bytes gives an empty buffer.
  explicit HugePageBuffer(size_t bytes);
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Commits every page now (MADV_POPULATE_WRITE, or a write per page on kernels before 5.14),
  // so no later first touch pays for it. Call it before any data is written.
  void populate();
  // Commits the pages of [offset, offset + bytes) without writing them, so it is safe while
  // other threads write the buffer. False when the kernel cannot (before Linux 5.14).
  bool populate(size_t offset, size_t bytes);

  // The whole contents of the regular file at path, read in 64 MiB pieces; progress (if set)
  // is called after each with (bytes read, file size). Throws pareto::Error ("PATH: problem")
  // when the file cannot be opened, is not a regular file, or cannot be read in full.
  static HugePageBuffer read_file(const std::string& path,
                                  const std::function<void(size_t, size_t)>& progress = {});

 private:
  void release();

  void* mapping_ = nullptr;  // what mmap returned (data_ is rounded up to a huge page)
  size_t mapping_bytes_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace pareto
