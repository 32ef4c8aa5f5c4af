#include "base/cpu_list.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace pareto {
namespace {

TEST(CpuList, ParsesNumbersAndRanges) {
  EXPECT_EQ(parse_cpu_list("1"), (std::vector<int>{1}));
  EXPECT_EQ(parse_cpu_list("0-3,6,8-9"), (std::vector<int>{0, 1, 2, 3, 6, 8, 9}));
  EXPECT_EQ(parse_cpu_list("5,1-2,2"), (std::vector<int>{1, 2, 5}));  // sorted, once each
  EXPECT_EQ(parse_cpu_list("4-4"), (std::vector<int>{4}));
  EXPECT_EQ(parse_cpu_list("1023"), (std::vector<int>{1023}));
}

TEST(CpuList, RejectsWhatIsNotAList) {
  for (const char* bad : {"", ",", "1,", "a", "1-", "-1", "3-1", "1 2", "0x1", "1024", "1.5"})
    EXPECT_THROW(parse_cpu_list(bad), Error) << "'" << bad << "'";
}

TEST(CpuList, FormatsTheShortestList) {
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(format_cpu_list({3}), "3");
  EXPECT_EQ(format_cpu_list({0, 1}), "0,1");
  EXPECT_EQ(format_cpu_list({6, 0, 1, 2, 3, 9, 8}), "0-3,6,8,9");
  EXPECT_EQ(format_cpu_list({2, 2, 3, 4}), "2-4");
  for (const char* list : {"0-3,6,8-10", "1", "0,2,4"})
    EXPECT_EQ(format_cpu_list(parse_cpu_list(list)), list);
}

}  // namespace
}  // namespace pareto
