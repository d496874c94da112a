#pragma once
/// Status and Result<T>: how every operation that input can make fail reports that failure.
/// No exception crosses a module boundary; callers test `ok()` and read `status()`.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "meshsim/common/source.h"

namespace meshsim {

/// Error categories, named after gRPC/absl codes so that they read the same everywhere.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition,
  kUnavailable,
  kInternal,
};

/// Returns the canonical spelling of a code, e.g. "PermissionDenied". Thread-safe.
const char* statusCodeName(StatusCode code);

/// An outcome: ok, or a code with a message and (when input caused it) the source location.
class Status {
 public:
  /// A successful status.
  Status() = default;
  /// An error (or ok, when code is kOk). `where` names the input that caused it, when known.
  Status(StatusCode code, std::string message, SourceLocation where = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const SourceLocation& where() const { return where_; }

  /// "file:line:col: PermissionDenied: message" (location omitted when unknown).
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  SourceLocation where_;
};

inline Status okStatus() { return {}; }
inline Status invalidArgument(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kInvalidArgument, std::move(msg), std::move(where)};
}
inline Status notFound(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kNotFound, std::move(msg), std::move(where)};
}
inline Status permissionDenied(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kPermissionDenied, std::move(msg), std::move(where)};
}
inline Status failedPrecondition(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kFailedPrecondition, std::move(msg), std::move(where)};
}
inline Status unavailable(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kUnavailable, std::move(msg), std::move(where)};
}
inline Status internalError(std::string msg, SourceLocation where = {}) {
  return {StatusCode::kInternal, std::move(msg), std::move(where)};
}

/// A value or an error Status. Accessing value() of an error is a bug (asserted).
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok() && "value() of an error Result");
    return std::get<T>(state_);
  }
  T& value() & {
    assert(ok() && "value() of an error Result");
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok() && "value() of an error Result");
    return std::get<T>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  /// The error; an ok Status when a value is held.
  Status status() const { return ok() ? Status{} : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace meshsim
