#include "base/huge_page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"
#include "base/mapped_file.h"

namespace pareto {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

HugePageBuffer::HugePageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  // Over-allocate by one huge page so the data can start on a huge-page boundary: the kernel
  // only backs whole, aligned 2 MiB ranges with huge pages.
  mapping_bytes_ = bytes + kHugePage;
  void* p =
      ::mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    size_ = 0;
    mapping_bytes_ = 0;
    fail("cannot allocate {} bytes: {}", bytes, std::strerror(errno));
  }
  mapping_ = p;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  data_ = reinterpret_cast<uint8_t*>((addr + kHugePage - 1) & ~(kHugePage - 1));
  // Advice only: without THP (or with it disabled) this fails and 4 KiB pages serve.
  ::madvise(data_, bytes, MADV_HUGEPAGE);
}

bool HugePageBuffer::populate(size_t offset, size_t bytes) {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older headers lack it
#endif
  if (offset >= size_ || bytes == 0) return true;
  bytes = std::min(bytes, size_ - offset);
  // madvise takes whole pages: the cover of [offset, offset + bytes) inside the mapping.
  const auto page =
      static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096);
  const auto begin = reinterpret_cast<uintptr_t>(data_ + offset) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(data_ + offset + bytes);
  return ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) == 0;
}

void HugePageBuffer::populate() {
  if (size_ == 0 || populate(0, size_)) return;
  // Older kernels: touch each 4 KiB page (the buffer is still all zeros, so this changes
  // nothing but the page tables).
  volatile uint8_t* p = data_;
  for (size_t off = 0; off < size_; off += 4096) p[off] = 0;
}

HugePageBuffer::~HugePageBuffer() {
  release();
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    release();
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HugePageBuffer HugePageBuffer::read_file(const std::string& path,
                                         const std::function<void(size_t, size_t)>& progress) {
  const RegularFile file(path);
  const size_t size = file.size();
  HugePageBuffer buffer;
  try {
    buffer = HugePageBuffer(size);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  constexpr size_t kPiece = size_t{64} << 20;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(file.fd(), buffer.data() + done, std::min(kPiece, size - done),
                              static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("{}: read failed: {}", path, std::strerror(errno));
    if (n == 0) fail("{}: file ended at byte {} of {} while reading", path, done, size);
    done += static_cast<size_t>(n);
    if (progress) progress(done, size);
  }
  return buffer;
}

void HugePageBuffer::release() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace pareto
