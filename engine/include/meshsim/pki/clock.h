#pragma once
/// The simulated clock of the mesh identity layer: certificates are issued, checked and rotated
/// against it, so that a scenario can advance time explicitly (rotate certificates, watch a stolen
/// certificate expire) without ever reading the wall clock.

#include <atomic>
#include <cstdint>
#include <string>

#include "meshsim/common/status.h"

namespace meshsim::pki {

/// Seconds in a day, for TTL arithmetic.
inline constexpr int64_t kSecondsPerDay = 24 * 60 * 60;

/// A clock that moves only when told to. Time is seconds since the Unix epoch (UTC).
/// Thread-safe: now() and advance() may be called from any thread (one atomic each).
/// Neither copyable nor movable; share it through a std::shared_ptr.
class SimClock {
 public:
  /// A clock that reads `start_seconds` until advanced.
  explicit SimClock(int64_t start_seconds) : now_(start_seconds) {}
  SimClock(const SimClock&) = delete;
  SimClock& operator=(const SimClock&) = delete;

  /// The current simulated time, seconds since the epoch.
  int64_t now() const { return now_.load(std::memory_order_acquire); }

  /// Moves the clock forward by `seconds` (0 is allowed). InvalidArgument when `seconds` is
  /// negative (simulated time never runs backwards) or when the result would overflow.
  Status advance(int64_t seconds);

  /// The wall clock, seconds since the epoch: for the CLI to pick a start value. Nothing in the
  /// identity layer calls it.
  static int64_t systemNow();

 private:
  std::atomic<int64_t> now_;
};

/// "2024-01-02T03:04:05Z" for a time in seconds since the epoch (proleptic Gregorian, UTC).
/// Pure; thread-safe.
std::string formatUtc(int64_t seconds_since_epoch);

}  // namespace meshsim::pki
