#include "meshsim/pki/clock.h"

#include <chrono>
#include <cstdio>
#include <limits>

#include "pki/material.h"

namespace meshsim::pki {

Status SimClock::advance(int64_t seconds) {
  if (seconds < 0) {
    return invalidArgument("cannot advance the simulated clock by " + std::to_string(seconds) +
                           " s: simulated time never runs backwards");
  }
  int64_t current = now_.load(std::memory_order_acquire);
  do {
    if (current > std::numeric_limits<int64_t>::max() - seconds) {
      return invalidArgument("advancing the simulated clock by " + std::to_string(seconds) +
                             " s overflows");
    }
  } while (!now_.compare_exchange_weak(current, current + seconds, std::memory_order_acq_rel,
                                       std::memory_order_acquire));
  return okStatus();
}

int64_t SimClock::systemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace detail {

// Shift the year to start in March so that the leap day is the last day of the year; an era is
// 400 years (146097 days), after which the Gregorian calendar repeats.
int64_t daysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

}  // namespace detail

std::string formatUtc(int64_t seconds_since_epoch) {
  // Floor division so that times before 1970 land on the right day.
  int64_t days = seconds_since_epoch / kSecondsPerDay;
  int64_t rem = seconds_since_epoch % kSecondsPerDay;
  if (rem < 0) {
    rem += kSecondsPerDay;
    days -= 1;
  }
  // The inverse of daysFromCivil.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), static_cast<long long>(month),               // NOLINT
                static_cast<long long>(day), static_cast<long long>(rem / 3600),           // NOLINT
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));  // NOLINT
  return buf;
}

}  // namespace meshsim::pki
