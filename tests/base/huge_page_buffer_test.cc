#include "base/huge_page_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace pareto {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

TEST(HugePageBuffer, EmptyHasNoMemory) {
  HugePageBuffer none;
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
  HugePageBuffer zero(0);
  EXPECT_EQ(zero.data(), nullptr);
  EXPECT_EQ(zero.size(), 0u);
}

TEST(HugePageBuffer, StartsZeroedOnAHugePageBoundaryAndIsWritable) {
  const size_t bytes = 3 * kHugePage + 12345;
  HugePageBuffer b(bytes);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHugePage, 0u);
  for (size_t i = 0; i < bytes; i += 4096) ASSERT_EQ(b.data()[i], 0) << i;
  EXPECT_EQ(b.data()[bytes - 1], 0);
  b.data()[0] = 1;
  b.data()[bytes - 1] = 2;
  EXPECT_EQ(b.data()[0], 1);
  EXPECT_EQ(b.data()[bytes - 1], 2);
}

TEST(HugePageBuffer, MovesLeaveTheSourceEmpty) {
  HugePageBuffer a(100);
  a.data()[99] = 7;
  uint8_t* const p = a.data();
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.size(), 100u);
  HugePageBuffer c(10);
  c = std::move(b);  // c's own memory is released, b's taken over
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.data()[99], 7);
}

}  // namespace
}  // namespace pareto
