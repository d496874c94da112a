// The simulated clock and UTC formatting (PRODUCT.md section 3: "a simulated clock lets a scenario
// advance time"). No sleeps: time moves only through advance().

#include "meshsim/pki/clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <thread>

namespace meshsim::pki {
namespace {

TEST(SimClock, ReadsItsStartValueUntilAdvanced) {
  SimClock clock(1700000000);
  EXPECT_EQ(clock.now(), 1700000000);
  EXPECT_EQ(clock.now(), 1700000000);
}

TEST(SimClock, AdvanceMovesForwardByExactlyTheGivenSeconds) {
  SimClock clock(1000);
  ASSERT_TRUE(clock.advance(86400).ok());
  EXPECT_EQ(clock.now(), 87400);
  ASSERT_TRUE(clock.advance(0).ok());
  EXPECT_EQ(clock.now(), 87400);
}

TEST(SimClock, RefusesToRunBackwards) {
  SimClock clock(1000);
  const Status status = clock.advance(-1);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("never runs backwards"), std::string::npos) << status.message();
  EXPECT_EQ(clock.now(), 1000);
}

TEST(SimClock, RefusesToOverflow) {
  SimClock clock(std::numeric_limits<int64_t>::max() - 5);
  const Status status = clock.advance(6);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("overflows"), std::string::npos) << status.message();
  EXPECT_EQ(clock.now(), std::numeric_limits<int64_t>::max() - 5);
  EXPECT_TRUE(clock.advance(5).ok());
}

TEST(SimClock, ConcurrentAdvancesAreAllCounted) {
  SimClock clock(0);
  auto work = [&clock] {
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(clock.advance(1).ok());
  };
  std::thread a(work);
  std::thread b(work);
  a.join();
  b.join();
  EXPECT_EQ(clock.now(), 10000);
}

TEST(SimClock, SystemNowIsAfter2020) {
  // Only the CLI uses it; check it is seconds (not ms) since the epoch.
  EXPECT_GT(SimClock::systemNow(), 1577836800);     // 2020-01-01
  EXPECT_LT(SimClock::systemNow(), 32503680000LL);  // 3000-01-01
}

struct UtcCase {
  int64_t seconds;
  const char* text;
};

class FormatUtc : public ::testing::TestWithParam<UtcCase> {};

TEST_P(FormatUtc, MatchesTheCalendar) { EXPECT_EQ(formatUtc(GetParam().seconds), GetParam().text); }

INSTANTIATE_TEST_SUITE_P(Dates, FormatUtc,
                         ::testing::Values(UtcCase{0, "1970-01-01T00:00:00Z"},
                                           UtcCase{-1, "1969-12-31T23:59:59Z"},
                                           UtcCase{951782400, "2000-02-29T00:00:00Z"},
                                           UtcCase{951868799, "2000-02-29T23:59:59Z"},
                                           UtcCase{1700000000, "2023-11-14T22:13:20Z"},
                                           UtcCase{4102444800, "2100-01-01T00:00:00Z"},
                                           UtcCase{253402300799, "9999-12-31T23:59:59Z"},
                                           UtcCase{-2208988800, "1900-01-01T00:00:00Z"}));

}  // namespace
}  // namespace meshsim::pki
