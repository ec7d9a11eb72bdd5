// racksmith/base: time as an injected dependency, so tests and the planner never read the
// wall clock directly (ninja passes start_time_millis; leveldb's Env::NowMicros).
#pragma once

#include <chrono>
#include <cstdint>

namespace racksmith {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time in milliseconds since the Unix epoch (for records shown to people).
  virtual int64_t NowUnixMillis() const = 0;
  /// Monotonic time in milliseconds (for timeouts and durations).
  virtual int64_t MonotonicMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowUnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock that only moves when told to: for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_millis = 1'700'000'000'000) : now_(unix_millis) {}
  int64_t NowUnixMillis() const override { return now_; }
  int64_t MonotonicMillis() const override { return now_; }
  void Advance(int64_t millis) { now_ += millis; }

 private:
  int64_t now_;
};

}  // namespace racksmith
