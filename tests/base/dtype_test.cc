#include "base/dtype.h"

#include <gtest/gtest.h>

namespace pareto {
namespace {

TEST(DType, BlockSizesFollowGguf) {
  EXPECT_EQ(row_bytes(DType::F32, 64), 256u);
  EXPECT_EQ(row_bytes(DType::F16, 64), 128u);
  EXPECT_EQ(row_bytes(DType::Q8_0, 64), 68u);
  EXPECT_EQ(row_bytes(DType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(DType::Q6_K, 256), 210u);
}

TEST(DType, ParsesNamesAndRejectsUnknownValues) {
  EXPECT_EQ(parse_dtype("Q4_K"), DType::Q4_K);
  EXPECT_EQ(parse_dtype("bf16"), DType::BF16);
  EXPECT_FALSE(parse_dtype("q9_9").has_value());
  EXPECT_FALSE(dtype_traits(4).has_value());  // removed ggml type Q4_2
  EXPECT_FALSE(dtype_traits(1000).has_value());
  EXPECT_EQ(dtype_name(DType::Q5_1), "q5_1");
}

}  // namespace
}  // namespace pareto
